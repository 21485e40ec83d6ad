"""Why a lesson was recommended: machine-readable reasons and one human sentence.

Pure: imports only the standard library. Reason codes are a stable contract read by the web
app and by LRS reports: `assigned_by_instructor`, `pinned_by_instructor`, `remediation`,
`prerequisite`, `review_due`, `gap`, `check`, `unlocks`, `critical_assessment`,
`format_preference`, `coach_flagged`, `goal_reached`, `over_budget`, `nothing_available`.
`check` is a lesson that confirms a goal competency the model already puts at its level: the
goal is declared only on direct, recent evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REASON_CODES = (
    "assigned_by_instructor",
    "pinned_by_instructor",
    "remediation",
    "prerequisite",
    "review_due",
    "gap",
    "check",
    "unlocks",
    "critical_assessment",
    "format_preference",
    "coach_flagged",
    "goal_reached",
    "over_budget",
    "nothing_available",
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One machine-readable reason, naming the competency and/or lesson it is about."""

    code: str
    competency_id: str | None = None
    lesson_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASON_CODES:
            raise ValueError(f"unknown reason code {self.code!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "code": self.code,
            "competency_id": self.competency_id,
            "lesson_id": self.lesson_id,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        """Rebuild from `to_dict` output."""
        return cls(
            str(data["code"]),
            data.get("competency_id"),
            data.get("lesson_id"),
            dict(data.get("detail") or {}),
        )


def _name(names: Mapping[str, str], key: str | None) -> str:
    return names.get(key or "", key or "")


def sentence(reasons: list[Reason], lesson_title: str | None, names: Mapping[str, str]) -> str:
    """One line a learner can read, built from the first (main) reason."""
    if not reasons:
        return "Nothing to recommend right now."
    main = reasons[0]
    what = f'"{lesson_title}"' if lesson_title else "this lesson"
    comp = _name(names, main.competency_id)
    unlock = next((r for r in reasons if r.code == "unlocks"), None)
    tail = f" It unlocks {_name(names, unlock.competency_id)}." if unlock else ""
    texts = {
        "assigned_by_instructor": f"Your instructor assigned {what}.",
        "pinned_by_instructor": f"Your instructor pinned {what}.",
        "remediation": f"After a low score on {comp}, {what} goes over it another way.",
        "prerequisite": f"{what} builds {comp}, which the next step needs.",
        "review_due": f"Time to review {comp} before it fades: {what}.",
        "gap": f"{what} closes your gap on {comp}.{tail}",
        "check": f"{what} checks that you master {comp} before the goal counts as reached.",
        "critical_assessment": f"{comp} is critical: pass {what} to show it.",
        "goal_reached": "You have reached the goal of this pathway.",
        "nothing_available": "No lesson fits right now; your coach has been told.",
        "over_budget": f"No lesson fits your time; {what} is the shortest.",
        "coach_flagged": f"A coach will help with {comp}.",
    }
    return texts.get(main.code, f"{what} is next.")
