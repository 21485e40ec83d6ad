"""The exception tree of the adaptive engine.

Pure: imports only the standard library. Every error the engine raises on purpose derives
from `RecommenderError`, so the web layer can render all of them with one handler.
"""

from __future__ import annotations

from datetime import datetime


class RecommenderError(Exception):
    """Root of every error the engine raises on purpose."""

    message = "The adaptive engine could not complete the request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class CatalogError(RecommenderError):
    """A catalog document does not follow the format; `errors` lists `(json_path, message)`."""

    message = "The catalog is not valid."

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = list(errors)
        lines = [f"{path}: {text}" if path else text for path, text in self.errors]
        super().__init__("; ".join(lines) or self.message)


class UnknownIdError(RecommenderError):
    """A lesson, competency or pathway id is not in the catalog."""

    message = "Unknown id."


class StateError(RecommenderError):
    """A persisted state document cannot be restored."""

    message = "The stored learner state is not valid."


def require_aware(moment: datetime, name: str = "now") -> datetime:
    """Return `moment` unchanged, or raise `ValueError` when it is a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment
