"""Tokens never reach a log record, whoever logs them and however."""

from __future__ import annotations

import logging

import pytest

from bots.core.redaction import REPLACEMENT, SecretRedactor, redact_logs

TOKEN = "123456789:AAH-redaction-test-token_abcdefghijk"


def test_redacts_messages_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    redact_logs(TOKEN)
    log = logging.getLogger("httpx")
    with caplog.at_level(logging.INFO):
        log.info("HTTP Request: POST %s", f"http://127.0.0.1/bot{TOKEN}/getUpdates")
        try:
            raise ValueError(f"bad url http://x/file/bot{TOKEN}/photos/1.jpg")
        except ValueError:
            log.exception("download failed")
    assert TOKEN not in caplog.text
    assert caplog.text.count(REPLACEMENT) >= 2


def test_url_encoded_token_is_redacted_and_short_strings_are_not() -> None:
    r = SecretRedactor([TOKEN, "abc"])
    assert r.redact("x 123456789%3AAAH-redaction-test-token_abcdefghijk y") == f"x {REPLACEMENT} y"
    assert r.redact("abc") == "abc"
