"""The contracts the bots build on: plain data, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from base.scores import Details, Explanation
from base.vocabulary import Label, Status
from queue_worker.contracts import ANALYZE, CheckResult, MediaContext, job_id


def test_media_context_round_trip() -> None:
    ctx = MediaContext(
        platform="discord",
        chat_id="1:2",
        chat_title="general",
        message_id="3",
        author_id="4",
        author_name="Ann",
        request_kind="command",
        requested_by="Bob",
        media_kind="image",
        file_name="a.png",
        mime_type="image/png",
        reply_to={"channel_id": 2, "message_id": 3},
    )
    data = json.loads(json.dumps(ctx.to_dict()))
    assert MediaContext.from_dict(data | {"unknown": 1}) == ctx


def test_check_result_round_trip() -> None:
    r = CheckResult(
        check_id=7,
        status=Status.DONE,
        label=Label.FAKE,
        fake_probability=0.9,
        faces=1,
        frames=16,
        model="m@1",
        timings={"decode": 0.1},
        deduplicated=True,
        created_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        media_kind="video",
        details=Details(
            frame_scores=(0.2, None, 0.9),
            frame_times=(0.0, 0.5, 1.0),
            explanation=Explanation(track=0, frame=2, box=(1.0, 2.0, 3.0, 4.0), map=((0.5,),)),
        ),
    )
    data = json.loads(json.dumps(r.to_dict()))
    assert data["label"] == "fake" and data["details"]["frame_scores"] == [0.2, None, 0.9]
    back = CheckResult.from_dict(data)
    assert back == r and isinstance(back.label, Label) and isinstance(back.status, Status)
    assert r.finished and not CheckResult(check_id=1, status=Status.RUNNING).finished


def test_job_ids_are_namespaced_by_queue() -> None:
    assert ANALYZE == "analyze"
    assert job_id("q1", "abc") != job_id("q2", "abc")


@pytest.mark.parametrize(
    ("module", "banned"),
    [
        ("queue_worker.contracts", ("torch", "inference", "sqlalchemy", "arq", "redis", "numpy")),
        ("queue_worker.client", ("torch", "inference", "numpy", "PIL", "cv2")),
    ],
)
def test_producers_import_no_heavy_code(module: str, banned: tuple[str, ...]) -> None:
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(out.stdout.split())
    assert module.split(".")[0] in loaded
    assert loaded.isdisjoint(banned), sorted(loaded & set(banned))
