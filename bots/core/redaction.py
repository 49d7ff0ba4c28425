"""Keeping bot tokens out of logs.

Telegram puts the bot token in every API and file URL, and HTTP libraries log
URLs (httpx at INFO: ``HTTP Request: POST https://…/bot<token>/getUpdates``), as
do their exceptions. :func:`redact_logs` rewrites every log record created in
the process, whichever library logs it and whichever handler writes it, so the
token never reaches a log file, a console or a test's captured output.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

REPLACEMENT = "<redacted>"


class SecretRedactor(logging.Filter):
    """A logging filter that replaces secrets in a record's message, arguments and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Redact ``secret`` (and its URL-encoded form) from now on."""
        for form in (secret, quote(secret, safe="")):
            # Short strings would blank out ordinary words: tokens are long.
            if len(form) >= 8 and form not in self._secrets:
                self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REPLACEMENT)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_installed: SecretRedactor | None = None


def redact_logs(secret: str) -> SecretRedactor:
    """Redact ``secret`` from every log record this process creates from now on.

    Wraps the logging module's record factory (once per process), so records are
    cleaned when they are made, before any handler or filter sees them.
    """
    global _installed
    if _installed is None:
        redactor = SecretRedactor()
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redactor.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = redactor
    _installed.add(secret)
    return _installed
