"""Reading and writing xAPI timestamps (ISO 8601, always timezone-aware).

Must not import anything outside the standard library.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["format_timestamp", "parse_timestamp"]

# ISO 8601 as xAPI uses it: date, 'T', time, optional fraction, and an offset or 'Z'.
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def parse_timestamp(text: object) -> datetime:
    """Parse an xAPI timestamp into an aware `datetime`; raise ValueError when it is not one.

    Fractions beyond microseconds are cut (JavaScript LRSs send milliseconds, others
    nanoseconds). A timestamp without an offset is rejected: xAPI 2.0 requires one and a naive
    time cannot be ordered against the LRS's `stored`.
    """
    if not isinstance(text, str):
        raise ValueError(f"timestamp must be a string, got {type(text).__name__}")
    if len(text) in (24, 29) and text[10] == "T" and text[-1] == "Z":
        # The common LRS forms (milliseconds or microseconds, 'Z'): the fast path.
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp with a time zone: {text!r}")
    fraction = (match.group(7) or ".0")[1:7].ljust(6, "0")
    offset = match.group(8)
    if offset == "Z":
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    head = "-".join(match.group(i) for i in (1, 2, 3))
    clock = ":".join(match.group(i) for i in (4, 5, 6))
    return datetime.fromisoformat(f"{head}T{clock}.{fraction}{offset}")


def format_timestamp(moment: datetime) -> str:
    """Format an aware `datetime` as xAPI wants it: UTC, milliseconds, 'Z'."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
