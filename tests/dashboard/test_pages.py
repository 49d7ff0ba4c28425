"""The checks table, a check's page, the override form and the statistics page, through
HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta

import pytest

from base.settings import Settings
from db.columns import utcnow
from db.engine import create_engine, session_factory
from db.reviews import reviews_of
from tests.dashboard.conftest import TestClient, csrf_of
from tests.dashboard.factories import make_checks

both_stores = pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)


def _ids(html: str) -> list[int]:
    """The check ids in the table, in order."""
    return [int(i) for i in re.findall(r'<td><a href="/checks/(\d+)">', html)]


@pytest.fixture
def seeded(settings: Settings) -> list[int]:
    now = utcnow()
    return make_checks(
        str(settings.database_url),
        {
            "label": "fake",
            "p": 0.93,
            "chat_id": "-100",
            "chat_title": "Memes",
            "author_id": "7",
            "author_name": "Alice",
            "review": "real",
        },
        {
            "label": "real",
            "p": 0.04,
            "chat_id": "-100",
            "chat_title": "Memes",
            "author_id": "8",
            "author_name": "Bob",
        },
        {
            "label": "inconclusive",
            "p": 0.55,
            "platform": "discord",
            "chat_id": "55:66",
            "chat_title": '=HYPERLINK("x")',
            "author_id": "9",
            "author_name": "Carol",
        },
        {"label": "unsupported", "status": "failed", "platform": "discord", "chat_id": "55"},
        {"label": "fake", "p": 0.99, "chat_id": "-200", "created_at": now - timedelta(days=40)},
    )


@both_stores
def test_table_lists_and_filters(signed_in: TestClient, seeded: list[int]) -> None:
    fake1, real, inconclusive, failed, old_fake = seeded
    assert _ids(signed_in.get("/checks").text) == [failed, inconclusive, real, fake1, old_fake]
    assert _ids(signed_in.get("/checks?label=fake").text) == [fake1, old_fake]
    assert _ids(signed_in.get("/checks?platform=discord").text) == [failed, inconclusive]
    # A Discord guild id finds its channels' checks too.
    assert _ids(signed_in.get("/checks?chat=55").text) == [failed, inconclusive]
    assert _ids(signed_in.get("/checks?author=alice").text) == [fake1]
    assert _ids(signed_in.get("/checks?author=8").text) == [real]
    assert _ids(signed_in.get("/checks?reviewed=yes").text) == [fake1]
    assert fake1 not in _ids(signed_in.get("/checks?reviewed=no").text)
    assert old_fake not in _ids(signed_in.get("/checks?period=30d").text)
    assert _ids(signed_in.get("/checks?status=failed").text) == [failed]
    assert _ids(signed_in.get("/checks?label=fake&period=7d").text) == [fake1]
    today = utcnow().date()
    since = (today - timedelta(days=50)).isoformat()
    until = (today - timedelta(days=30)).isoformat()
    assert _ids(signed_in.get(f"/checks?since={since}&until={until}").text) == [old_fake]


def test_bad_filter_values_are_explained(signed_in: TestClient, seeded: list[int]) -> None:
    for query in ("label=nonsense", "since=yesterday", "platform=myspace"):
        response = signed_in.get(f"/checks?{query}")
        assert response.status_code == 400
        assert 'class="error"' in response.text


def test_filters_are_bound_not_formatted(signed_in: TestClient, seeded: list[int]) -> None:
    response = signed_in.get("/checks", params={"chat": "' OR 1=1 --", "author": "%"})
    assert response.status_code == 200
    assert _ids(response.text) == []


def test_paging(signed_in: TestClient, settings: Settings) -> None:
    ids = make_checks(str(settings.database_url), *({"label": "real"} for _ in range(55)))
    first = signed_in.get("/checks?label=real")
    assert _ids(first.text) == ids[::-1][:50]
    assert "Page 1 of 2" in first.text
    assert 'rel="next"' in first.text
    second = signed_in.get("/checks?label=real&page=2")
    assert _ids(second.text) == ids[::-1][50:]
    assert 'rel="next"' not in second.text


@both_stores
def test_csv_export_follows_the_filters(signed_in: TestClient, seeded: list[int]) -> None:
    response = signed_in.get("/checks.csv?platform=discord")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [seeded[3], seeded[2]]
    # A chat title that looks like a formula is defused for spreadsheets.
    assert rows[1]["chat_title"].startswith("'=")
    all_rows = list(csv.DictReader(io.StringIO(signed_in.get("/checks.csv").text)))
    assert {r["review"] for r in all_rows} == {"real", ""}


@both_stores
def test_check_page_shows_verdict_and_timeline(signed_in: TestClient, settings: Settings) -> None:
    scores = [0.1, 0.4, 0.8, 0.95, 0.7]
    (check_id,) = make_checks(
        str(settings.database_url),
        {"label": "fake", "p": 0.95, "scores": scores, "chat_title": "<script>x</script>"},
    )
    page = signed_in.get(f"/checks/{check_id}")
    assert page.status_code == 200
    assert 'id="verdict">fake<' in page.text
    assert "95.0%" in page.text
    chart = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert chart.count('class="point"') == len(scores)
    assert "<polyline" in chart
    assert "<script>x</script>" not in page.text  # chat titles are escaped
    assert 'http-equiv="refresh"' not in page.text  # finished: no reloading
    assert signed_in.get("/checks/999999").status_code == 404


def test_an_unfinished_check_reloads_itself(signed_in: TestClient, settings: Settings) -> None:
    (check_id,) = make_checks(str(settings.database_url), {"status": "queued"})
    page = signed_in.get(f"/checks/{check_id}")
    assert 'http-equiv="refresh"' in page.text
    assert "queued" in page.text


@both_stores
def test_override_is_stored_as_a_review(signed_in: TestClient, settings: Settings) -> None:
    (check_id,) = make_checks(str(settings.database_url), {"label": "fake", "p": 0.9})
    token = csrf_of(signed_in.get(f"/checks/{check_id}").text)
    response = signed_in.post(
        f"/checks/{check_id}/review",
        data={"decision": "real", "note": "a known parody account", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/checks/{check_id}#reviews")

    async def stored() -> list[tuple[str, str | None, str | None]]:
        engine = create_engine(str(settings.database_url))
        async with session_factory(engine)() as session:
            reviews = await reviews_of(session, check_id=check_id)
        await engine.dispose()
        return [(r.decision, r.note, r.moderator_name) for r in reviews]

    assert asyncio.run(stored()) == [("real", "a known parody account", "mod")]
    page = signed_in.get(f"/checks/{check_id}").text
    assert "a known parody account" in page
    assert 'id="review-decision">real<' in page
    bad = signed_in.post(
        f"/checks/{check_id}/review",
        data={"decision": "maybe", "csrf_token": token},
        follow_redirects=False,
    )
    assert bad.status_code == 400
    assert len(asyncio.run(stored())) == 1


@both_stores
def test_statistics_page(signed_in: TestClient, seeded: list[int]) -> None:
    page = signed_in.get("/stats?days=30")
    assert page.status_code == 200
    summary = page.text[page.text.index('id="summary"') :]
    # Four checks in the last 30 days (the 40-day-old one is out), one of them fake;
    # all four are finished, so the fake share is 25%.
    assert "<strong>4</strong> checks" in summary
    assert "<strong>1</strong> fake" in summary
    assert "25.0%" in summary
    per_day = page.text[page.text.index('id="per-day"') : page.text.index('id="per-chat"')]
    assert per_day.count('class="bar"') == 30
    per_chat = page.text[page.text.index('id="per-chat"') :]
    assert "Memes" in per_chat
    assert signed_in.get("/stats?days=0").status_code == 422
