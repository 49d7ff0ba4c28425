"""Cross-job batching: many threads ask for verdicts, one thread runs them in batches.

A worker that runs several jobs at once (arq ``max_jobs`` > 1, each job's
inference in an executor thread) calls :meth:`Batcher.analyze` instead of
``Pipeline.analyze``: requests that arrive within ``max_wait_s`` of each other
go through :meth:`inference.pipeline.Pipeline.analyze_batch` together, so a GPU
sees the frames and face crops of several jobs in one forward instead of one job
at a time. On a CPU there is nothing to gain (the cores are busy either way);
use it where the device is a GPU.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

from inference.media import MediaSource
from inference.pipeline import Pipeline
from inference.verdict import Verdict

log = logging.getLogger(__name__)

_STOP = object()
_Request = tuple[MediaSource, "Future[Verdict]"]


class Batcher:
    """Runs ``analyze`` requests from any thread in batches on one pipeline."""

    def __init__(self, pipeline: Pipeline, *, max_items: int = 8, max_wait_s: float = 0.01) -> None:
        """Start the batching thread.

        Args:
            pipeline: the pipeline every batch runs on.
            max_items: most items in one batch.
            max_wait_s: how long the first request of a batch waits for company.
        """
        self.pipeline = pipeline
        self.max_items = max(1, max_items)
        self.max_wait_s = max(0.0, max_wait_s)
        self.batches = 0  # batches run so far, for the curious (and the tests)
        self._requests: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fw-batcher", daemon=True)
        self._closed = False
        self._thread.start()

    def analyze(self, source: MediaSource) -> Verdict:
        """The verdict for one item, batched with whatever else is waiting. Blocks."""
        return self.submit(source).result()

    def submit(self, source: MediaSource) -> Future[Verdict]:
        """Queue one item; the future resolves to its verdict."""
        if self._closed:
            raise RuntimeError("the batcher is closed")
        future: Future[Verdict] = Future()
        self._requests.put((source, future))
        return future

    def close(self) -> None:
        """Finish the requests already queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._requests.put(_STOP)
            self._thread.join()

    def _collect(self, first: _Request) -> tuple[list[_Request], bool]:
        batch = [first]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_items:
            left = deadline - time.monotonic()
            try:
                item = self._requests.get(timeout=left) if left > 0 else self._requests.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._requests.get()
            if first is _STOP:
                break
            batch, stop = self._collect(first)  # type: ignore[arg-type]
            live = [(s, f) for s, f in batch if f.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                verdicts = self.pipeline.analyze_batch([s for s, _ in live])
            except Exception as e:  # a bug must reach the callers, not kill this thread
                log.exception("a batch of %d items failed", len(live))
                for _, f in live:
                    f.set_exception(e)
                continue
            self.batches += 1
            for (_, f), v in zip(live, verdicts, strict=True):
                f.set_result(v)
