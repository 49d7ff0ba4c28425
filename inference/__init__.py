"""Inference: decode media, find faces, classify face sequences, decide a verdict.

Synchronous and self-contained: this package knows nothing about queues,
databases or chat platforms. The public entry points are
:class:`inference.pipeline.Pipeline` and the stage functions it is made of.
Heavy imports (torch, PyAV, facenet-pytorch) happen in the submodules, never here.
"""
