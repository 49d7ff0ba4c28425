"""Benchmark tooling and sample media: what measures the pipeline, kept out of it.

``fakewatch bench`` is built from these modules: :mod:`bench.workload` (the media
it runs), :mod:`bench.runs` (latency, throughput, memory), :mod:`bench.baseline`
(the public app's naive path), :mod:`bench.queue` (the workload through Redis and a
real worker), :mod:`bench.detect_sizes` (the detection-size study). :mod:`bench.samples`
makes small media from scikit-image's photos for the benchmark, ``fakewatch demo``
and the tests. This package may import ``inference``, ``queue_worker`` and ``db``;
none of them imports it.
"""
