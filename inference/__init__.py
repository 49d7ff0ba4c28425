"""Inference: decode media, find faces, classify face sequences, decide a verdict.

Synchronous and self-contained: this package knows nothing about queues,
databases or chat platforms. The public entry points are
:class:`inference.pipeline.Pipeline` and the stage functions it is made of.
Heavy imports (torch, PyAV, facenet-pytorch) happen in the submodules, never here.
"""

import os

# torch's OpenMP threads busy-wait between parallel regions by default. On a machine
# whose few cores are shared (the worker next to Redis, the database, the bots, and
# its own decode thread) a spinning thread holds a core that another one needs:
# measured on 2 shared cores, the inference tests ran 5x slower and a video took
# 3x longer. Passive waiting costs little on a quiet machine (docs/performance.md).
# libgomp reads this once, when torch is first imported, which is after this line
# for every process that reaches torch through this package. An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
