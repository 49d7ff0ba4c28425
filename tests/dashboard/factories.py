"""Checks in the store, made through the store's own functions (and dated as a test needs)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from base.scores import Details
from base.vocabulary import Label
from db.checks import create_check, mark_failed, store_verdict
from db.engine import create_engine, session_factory
from db.models import Check
from db.reviews import add_review
from db.verdicts import VerdictRecord

TIMINGS = {"decode": 0.02, "detect": 0.3, "track": 0.001, "classify": 1.2, "decide": 0.0005}


def details(scores: list[float]) -> dict[str, Any]:
    """Verdict details of one face seen in every sampled frame, 0.5 s apart."""
    return {
        "frame_scores": scores,
        "frame_times": [i * 0.5 for i in range(len(scores))],
        "face_scores": [
            {
                "track": 0,
                "fake_probability": max(scores),
                "frames": list(range(len(scores))),
                "frame_scores": scores,
                "box": [10.0, 10.0, 60.0, 70.0],
            }
        ],
    }


async def _make(url: str, specs: list[dict[str, Any]]) -> list[int]:
    engine = create_engine(url)
    ids: list[int] = []
    try:
        async with session_factory(engine)() as session:
            for n, spec in enumerate(specs):
                spec = dict(spec)
                label = spec.pop("label", "real")
                probability = spec.pop("p", 0.1)
                created = spec.pop("created_at", None)
                review = spec.pop("review", None)
                status = spec.pop("status", "done")
                scores = spec.pop("scores", [probability] * 4)
                explanation = spec.pop("explanation", None)
                media_kind = spec.pop("media_kind", "video")
                media_path = spec.pop("media_path", None)
                check = await create_check(
                    session,
                    platform=spec.pop("platform", "telegram"),
                    sha256=hashlib.sha256(f"{url}{n}{spec}".encode()).hexdigest(),
                    byte_size=spec.pop("byte_size", 1000 + n),
                    **spec,
                )
                if status == "done":
                    await store_verdict(
                        session,
                        check_id=check.id,
                        verdict=VerdictRecord(
                            label=Label(label),
                            fake_probability=probability,
                            faces=1,
                            frames=len(scores),
                            model="test-model",
                            timings=TIMINGS,
                            media_kind=media_kind,
                            details=Details.from_json(
                                details(scores) | {"explanation": explanation}
                            ),
                        ),
                    )
                elif status == "failed":
                    await mark_failed(
                        session,
                        check_id=check.id,
                        reason="the file is damaged",
                        reason_code="corrupt_media",
                        label="unsupported",
                    )
                if media_path is not None:
                    await session.execute(
                        update(Check).where(Check.id == check.id).values(media_path=media_path)
                    )
                    await session.commit()
                if created is not None:
                    await session.execute(
                        update(Check).where(Check.id == check.id).values(created_at=created)
                    )
                    await session.commit()
                if review:
                    await add_review(
                        session, check_id=check.id, moderator_id="t:1", decision=review
                    )
                ids.append(check.id)
    finally:
        await engine.dispose()
    return ids


def make_checks(url: str, *specs: dict[str, Any]) -> list[int]:
    """Store one check per spec (keys of ``create_check`` plus ``label``, ``p``, ``status``,
    ``created_at``, ``review``, ``scores``, ``explanation``, ``media_kind``, ``media_path``);
    returns their ids in order."""
    return asyncio.run(_make(url, list(specs)))


def utc(text: str) -> datetime:
    """An aware UTC datetime from ISO text without a zone."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
