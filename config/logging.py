"""Logging set-up: one handler on the `skillpath` logger, JSON lines by default (with the
request id the web layer supplies through `context`), and redaction that keeps secrets out of
every line, tracebacks included."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# What the web layer adds to each record of a request (`request_id`), read when it is logged.
LogContext = Callable[[], Mapping[str, Any]]

# Tokens, passwords and keys must never reach a log. JWTs are recognisable by shape; the
# rest by the name they appear under. Each pattern starts only where a word starts, so a
# long run of letters (a hostile 100 KB request line) costs linear time, not quadratic.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_NAMED_SECRET = re.compile(
    r"(?i)(?<![a-z_])([a-z_]*(?:password|passwd|secret|token|client_assertion|authorization))"
    r"(\"?\s*[:=]\s*\"?)([^\s\"',;&]+)"
)
# A log line longer than this is cut before it is redacted and written.
MAX_LOGGED_CHARACTERS = 8192
# The launch session token rides in the page URL (`?t=`), and the admin console's single-use
# ticket in its way in (`?ticket=`), so request lines must not show them.
_SESSION_PARAM = re.compile(r"([?&](?:t|ticket)=)[^&\s\"']+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


def redact(text: str) -> str:
    """Replace anything that looks like a secret in `text` with a marker (and cut what is
    longer than `MAX_LOGGED_CHARACTERS`)."""
    if len(text) > MAX_LOGGED_CHARACTERS:
        cut = len(text) - MAX_LOGGED_CHARACTERS
        text = f"{text[:MAX_LOGGED_CHARACTERS]}... [{cut} characters cut]"
    text = _PEM.sub("[private key redacted]", text)
    text = _JWT.sub("[jwt redacted]", text)
    text = _SESSION_PARAM.sub(r"\1[redacted]", text)
    return _NAMED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class ContextFilter(logging.Filter):
    """Adds what `context()` says (the request id in a request) to each record."""

    def __init__(self, context: LogContext) -> None:
        super().__init__()
        self._context = context

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self._context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request id and any extras;
    the whole line (traceback included) goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return RedactingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return RedactingJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(
    level: str = "INFO", log_format: str = "json", context: LogContext | None = None
) -> None:
    """One stream handler on the `skillpath` logger (JSON lines or text), with the redacting
    filter; `context` adds fields to each record (the web layer's request id)."""
    logger = logging.getLogger("skillpath")
    logger.setLevel(level)
    ours = next((h for h in logger.handlers if getattr(h, "_skillpath", False)), None)
    if ours is None:
        ours = logging.StreamHandler()
        ours._skillpath = True  # type: ignore[attr-defined]
        logger.addHandler(ours)
    ours.setFormatter(_formatter(log_format))
    if context is not None and not any(isinstance(f, ContextFilter) for f in ours.filters):
        ours.addFilter(ContextFilter(context))
    for existing in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
    # The servers' own request logs, too.
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        server_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in server_logger.filters):
            server_logger.addFilter(RedactingFilter())


def json_handler(context: LogContext | None = None) -> logging.Handler:
    """A stream handler writing the JSON lines of `configure_logging` (for gunicorn's own
    loggers, so a server's every line has one format)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_formatter("json"))
    handler.addFilter(RedactingFilter())
    if context is not None:
        handler.addFilter(ContextFilter(context))
    return handler
