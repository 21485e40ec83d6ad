"""Logging set-up, with a filter that keeps secrets out of every log line."""

from __future__ import annotations

import logging
import re

# Tokens, passwords and keys must never reach a log. JWTs are recognisable by shape; the
# rest by the name they appear under.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_NAMED_SECRET = re.compile(
    r"(?i)([a-z_]*(?:password|passwd|secret|token|client_assertion|authorization))"
    r"(\"?\s*[:=]\s*\"?)([^\s\"',;&]+)"
)
# The launch session token rides in the page URL (`?t=`), and the admin console's single-use
# ticket in its way in (`?ticket=`), so request lines must not show them.
_SESSION_PARAM = re.compile(r"([?&](?:t|ticket)=)[^&\s\"']+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


def redact(text: str) -> str:
    """Replace anything that looks like a secret in `text` with a marker."""
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


def configure_logging(level: str = "INFO") -> None:
    """One stream handler on the `skillpath` logger, with the redacting filter."""
    logger = logging.getLogger("skillpath")
    logger.setLevel(level)
    if not any(getattr(h, "_skillpath", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._skillpath = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    for existing in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
    # The servers' own request logs, too.
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        server_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in server_logger.filters):
            server_logger.addFilter(RedactingFilter())
