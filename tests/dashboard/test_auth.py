"""Signing in, sessions and CSRF: a signed-out visitor, a forged cookie and a cross-site
form post get nothing."""

from __future__ import annotations

import asyncio

import pytest
from itsdangerous import URLSafeTimedSerializer

from base.settings import Settings
from dashboard.accounts import change_password
from dashboard.sessions import COOKIE
from tests.dashboard.conftest import PASSWORD, TestClient, csrf_of, sign_in
from tests.dashboard.factories import make_checks

HTML = {"accept": "text/html"}
PAGES = ["/checks", "/checks/1", "/stats", "/upload", "/checks.csv"]


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_pages_redirect_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://testserver/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_scripts_get_401(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"accept": "*/*"}, follow_redirects=False)
    assert response.status_code == 401
    assert "check" not in response.text.lower()


def test_signed_out_posts_are_refused(client: TestClient, settings: Settings) -> None:
    (check_id,) = make_checks(str(settings.database_url), {"label": "fake", "p": 0.9})
    token = csrf_of(client.get("/login").text)  # a valid token of an anonymous session
    response = client.post(
        f"/checks/{check_id}/review",
        data={"decision": "real", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 401
    upload = client.post(
        "/upload",
        data={"csrf_token": token},
        files={"file": ("a.png", b"\x89PNG", "image/png")},
        follow_redirects=False,
    )
    assert upload.status_code == 401


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
def test_sign_in_sets_a_protected_cookie_and_opens_the_pages(
    client: TestClient, moderator: str
) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"name": "MOD", "password": PASSWORD, "csrf_token": token, "next": "/stats"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/stats"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP here
    page = client.get("/checks")
    assert page.status_code == 200
    assert "Sign out" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    # Signing in issued a new CSRF token (no session fixation).
    assert csrf_of(page.text) != token


def test_cookie_is_secure_over_https(settings: Settings, moderator: str) -> None:
    from dashboard.app import create_app

    with TestClient(create_app(settings, migrate=False), base_url="https://testserver") as c:
        response = c.get("/login")
        assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_name_are_refused(client: TestClient, moderator: str) -> None:
    for name, password in ((moderator, "wrong password"), ("nobody", PASSWORD)):
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"name": name, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 401
        assert "Wrong name or password" in response.text
    assert client.get("/checks", headers=HTML, follow_redirects=False).status_code == 303


def test_sign_in_without_or_with_a_wrong_csrf_token_is_refused(
    client: TestClient, moderator: str
) -> None:
    client.get("/login")
    for data in (
        {"name": moderator, "password": PASSWORD},
        {"name": moderator, "password": PASSWORD, "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 403
    assert client.get("/checks", headers=HTML, follow_redirects=False).status_code == 303


def test_cross_site_form_posts_are_refused(signed_in: TestClient, settings: Settings) -> None:
    (check_id,) = make_checks(str(settings.database_url), {"label": "fake", "p": 0.9})
    page = signed_in.get(f"/checks/{check_id}")
    token = csrf_of(page.text)
    url = f"/checks/{check_id}/review"
    no_token = signed_in.post(url, data={"decision": "real"}, follow_redirects=False)
    wrong = signed_in.post(
        url, data={"decision": "real", "csrf_token": token[:-2] + "xx"}, follow_redirects=False
    )
    other_site = signed_in.post(
        url,
        data={"decision": "real", "csrf_token": token},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert [r.status_code for r in (no_token, wrong, other_site)] == [403, 403, 403]
    assert "No moderator has reviewed" in signed_in.get(f"/checks/{check_id}").text
    # The same post from this site goes through.
    ok = signed_in.post(
        url,
        data={"decision": "real", "csrf_token": token},
        headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_a_forged_cookie_gets_nothing(client: TestClient, moderator: str) -> None:
    # A session for user 1 signed with another key, and a tampered real cookie.
    forged = URLSafeTimedSerializer("not-the-secret", salt="fakewatch.dashboard.session").dumps(
        {"u": 1, "p": "0" * 16, "c": "x" * 20}
    )
    client.cookies.set(COOKIE, forged)
    assert client.get("/checks", headers=HTML, follow_redirects=False).status_code == 303
    client.cookies.clear()
    sign_in(client)
    real = client.cookies.get(COOKIE)
    assert real is not None
    payload, _, rest = real.partition(".")
    # Replace the server's cookie (same domain), rather than send a second one beside it.
    client.cookies.clear()
    client.cookies.set(COOKIE, payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + rest)
    assert client.get("/checks", headers=HTML, follow_redirects=False).status_code == 303


def test_a_password_change_ends_open_sessions(
    signed_in: TestClient, settings: Settings, moderator: str
) -> None:
    assert signed_in.get("/checks").status_code == 200
    asyncio.run(
        change_password(str(settings.database_url), name=moderator, password="another password")
    )
    assert signed_in.get("/checks", headers=HTML, follow_redirects=False).status_code == 303


def test_sign_out(signed_in: TestClient) -> None:
    token = csrf_of(signed_in.get("/checks").text)
    response = signed_in.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert signed_in.get("/checks", headers=HTML, follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_site(client: TestClient, moderator: str) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"name": moderator, "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/checks"
