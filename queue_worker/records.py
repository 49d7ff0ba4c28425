"""Between the store and the contracts: a stored ``Check`` as a ``CheckResult``."""

from __future__ import annotations

from base.vocabulary import Status
from db.models import Check
from queue_worker.contracts import CheckResult


def check_result(check: Check) -> CheckResult:
    """What producers see of a stored check."""
    return CheckResult(
        check_id=check.id,
        status=Status(check.status),
        label=check.label,
        fake_probability=check.fake_probability,
        faces=check.faces,
        frames=check.frames,
        model=check.model_id,
        reason=check.reason,
        reason_code=check.reason_code,
        timings=dict(check.timings or {}),
        deduplicated=check.deduplicated_from is not None,
        created_at=check.created_at.isoformat() if check.created_at else None,
        finished_at=check.finished_at.isoformat() if check.finished_at else None,
        media_kind=check.media_kind,
        details=dict(check.details or {}),
    )
