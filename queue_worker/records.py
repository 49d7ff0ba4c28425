"""Between the store and the contracts: a stored ``Check`` as a ``CheckResult``."""

from __future__ import annotations

from base.scores import Details
from base.vocabulary import Label, Status
from db.models import Check
from queue_worker.contracts import CheckResult


def check_result(check: Check) -> CheckResult:
    """What producers see of a stored check."""
    return CheckResult(
        check_id=check.id,
        status=Status(check.status),
        label=Label(check.label) if check.label is not None else None,
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
        details=Details.from_json(check.details),
    )
