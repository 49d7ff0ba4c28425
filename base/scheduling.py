"""Leave a real-time scheduling policy inherited from the parent process.

A process started by a parent running under ``SCHED_FIFO`` or ``SCHED_RR`` inherits
that policy. For a CPU-bound FakeWatch process it is a trap: a thread that spins (an
OpenMP worker waiting for work, a busy decoder thread) is never preempted by the
process's other threads of the same priority, so the event loop may never run again.
Seen on the development machine: a worker that inherited ``SCHED_FIFO`` 99 finished
its jobs on SIGTERM, then two of its threads spun at 100% on both cores and the
process neither exited nor let anything else on the machine run. Every ``fakewatch``
command therefore drops to the normal policy first, before it starts any thread.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

_REAL_TIME = {getattr(os, name) for name in ("SCHED_FIFO", "SCHED_RR") if hasattr(os, name)}


def _threads() -> list[int]:
    """The ids of this process's threads (Linux), the calling one (0) when unknown."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def normal_scheduling() -> bool:
    """Switch every thread of this process (and the threads they start) to ``SCHED_OTHER``.

    Returns:
        Whether some thread ran under a real-time policy and has been switched.
    """
    if not _REAL_TIME or not hasattr(os, "sched_getscheduler"):
        return False  # not Linux: nothing to do
    changed = False
    for tid in _threads():
        try:
            if os.sched_getscheduler(tid) not in _REAL_TIME:
                continue
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
            changed = True
        except OSError as e:  # gone meanwhile, or not allowed
            log.debug("could not leave the real-time policy for thread %d: %s", tid, e)
    if changed:
        log.warning("running under a real-time scheduling policy; switched to normal")
    return changed
