"""A learner's state: what the engine believes about one learner, JSON round-trippable.

Pure: imports only the standard library. The web app persists `LearnerState.to_dict()` as JSON
and restores it with `LearnerState.from_dict()` on any instance; the round trip is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, make_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .errors import StateError, require_aware

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

STATE_VERSION = 1
OVERRIDE_KINDS = ("pin", "skip", "assign", "mark_mastered")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StateError(f"{name} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise StateError(f"{name}: {exc}") from exc
    if parsed.tzinfo is None:
        raise StateError(f"{name} must carry a UTC offset")
    return parsed


@dataclass(frozen=True, slots=True)
class CompetencyState:
    """The engine's belief about one competency of one learner.

    `p` is P(mastered) at the moment `updated`; forgetting from then to `now` is applied when
    mastery is read. `failures` counts consecutive failed attempts. `checked` is when the
    learner last passed a lesson mainly about this competency (or a pre-assessment on it):
    direct evidence, which a failure on such a lesson clears. `run_chance` is how likely the
    model found the current run of failed attempts (the product of their predicted failure
    chances; 1 after a pass): a low value means failing beyond what learning explains.
    `taken_at` is the learner's lesson count (`LearnerState.taken`) when `p` was set: forgetting
    per lesson taken runs from there.
    """

    p: float
    updated: datetime | None = None
    stability_days: float = 60.0
    attempts: int = 0
    failures: int = 0
    last_score: float | None = None
    last_lesson: str | None = None
    assessed: bool = False
    mastered_by_override: bool = False
    checked: datetime | None = None
    run_chance: float = 1.0
    taken_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "p": self.p,
            "updated": _time(self.updated),
            "stability_days": self.stability_days,
            "attempts": self.attempts,
            "failures": self.failures,
            "last_score": self.last_score,
            "last_lesson": self.last_lesson,
            "assessed": self.assessed,
            "mastered_by_override": self.mastered_by_override,
            "checked": _time(self.checked),
            "run_chance": self.run_chance,
            "taken_at": self.taken_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetencyState:
        """Rebuild from `to_dict` output."""
        p = float(data["p"])
        if not 0.0 <= p <= 1.0:
            raise StateError(f"p must be in [0, 1], got {p}")
        last = data.get("last_score")
        return cls(
            p=p,
            updated=_parse_time(data.get("updated"), "updated"),
            stability_days=float(data.get("stability_days", 60.0)),
            attempts=int(data.get("attempts", 0)),
            failures=int(data.get("failures", 0)),
            last_score=None if last is None else float(last),
            last_lesson=data.get("last_lesson"),
            assessed=bool(data.get("assessed", False)),
            mastered_by_override=bool(data.get("mastered_by_override", False)),
            checked=_parse_time(data.get("checked"), "checked"),
            run_chance=float(data.get("run_chance", 1.0)),
            taken_at=int(data.get("taken_at", 0)),
        )


@dataclass(frozen=True, slots=True)
class LessonRecord:
    """What a learner did with one lesson: attempts, last time, last score and last success
    flag (None when the last result had none)."""

    attempts: int = 0
    last_at: datetime | None = None
    last_score: float | None = None
    last_success: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "attempts": self.attempts,
            "last_at": _time(self.last_at),
            "last_score": self.last_score,
            "last_success": self.last_success,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LessonRecord:
        """Rebuild from `to_dict` output."""
        last = data.get("last_score")
        success = data.get("last_success")
        return cls(
            int(data.get("attempts", 0)),
            _parse_time(data.get("last_at"), "last_at"),
            None if last is None else float(last),
            None if success is None else bool(success),
        )


@dataclass(frozen=True, slots=True)
class Override:
    """An instructor's decision that wins over the policy, recorded with who, when and why.

    `kind` is `pin` (recommend this lesson until unpinned), `skip` (never recommend it),
    `assign` (recommend it next, once) or `mark_mastered` (treat the competency as mastered).
    """

    kind: str
    at: datetime
    by: str
    lesson_id: str | None = None
    competency_id: str | None = None
    note: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if self.kind not in OVERRIDE_KINDS:
            raise ValueError(f"override kind must be one of {', '.join(OVERRIDE_KINDS)}")
        require_aware(self.at, "Override.at")
        if self.kind == "mark_mastered":
            if not self.competency_id:
                raise ValueError("mark_mastered needs a competency_id")
        elif not self.lesson_id:
            raise ValueError(f"{self.kind} needs a lesson_id")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "kind": self.kind,
            "at": _time(self.at),
            "by": self.by,
            "lesson_id": self.lesson_id,
            "competency_id": self.competency_id,
            "note": self.note,
            "active": self.active,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Override:
        """Rebuild from `to_dict` output."""
        at = _parse_time(data.get("at"), "at")
        if at is None:
            raise StateError("override.at is required")
        return cls(
            str(data["kind"]),
            at,
            str(data.get("by", "")),
            data.get("lesson_id"),
            data.get("competency_id"),
            str(data.get("note", "")),
            bool(data.get("active", True)),
        )


@dataclass(frozen=True, slots=True)
class LearnerState:
    """Everything the engine knows about one learner. Functions return new states."""

    learner_id: str
    competencies: Mapping[str, CompetencyState] = field(default_factory=dict)
    lessons: Mapping[str, LessonRecord] = field(default_factory=dict)
    ability: float = 0.0
    overrides: tuple[Override, ...] = ()
    coach_flags: tuple[str, ...] = ()
    started: Mapping[str, datetime] = field(default_factory=dict)
    minutes_per_day: float | None = None
    taken: int = 0  # lessons taken so far (statements about catalog lessons)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (`json.dumps` works on it); see `from_dict`."""
        return {
            "version": STATE_VERSION,
            "learner_id": self.learner_id,
            "competencies": {k: v.to_dict() for k, v in sorted(self.competencies.items())},
            "lessons": {k: v.to_dict() for k, v in sorted(self.lessons.items())},
            "ability": self.ability,
            "overrides": [o.to_dict() for o in self.overrides],
            "coach_flags": list(self.coach_flags),
            "started": {k: v.isoformat() for k, v in sorted(self.started.items())},
            "minutes_per_day": self.minutes_per_day,
            "taken": self.taken,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnerState:
        """Rebuild a state from `to_dict` output; raises `StateError` when it is malformed."""
        if not isinstance(data, Mapping):
            raise StateError("learner state must be an object")
        if data.get("version", STATE_VERSION) != STATE_VERSION:
            raise StateError(f"unsupported learner state version {data.get('version')!r}")
        try:
            started: dict[str, datetime] = {}
            for key, value in data.get("started", {}).items():
                moment = _parse_time(value, f"started.{key}")
                if moment is not None:
                    started[str(key)] = moment
            mpd = data.get("minutes_per_day")
            return cls(
                learner_id=str(data["learner_id"]),
                competencies={
                    str(k): CompetencyState.from_dict(v)
                    for k, v in data.get("competencies", {}).items()
                },
                lessons={
                    str(k): LessonRecord.from_dict(v) for k, v in data.get("lessons", {}).items()
                },
                ability=float(data.get("ability", 0.0)),
                overrides=tuple(Override.from_dict(o) for o in data.get("overrides", [])),
                coach_flags=tuple(str(c) for c in data.get("coach_flags", [])),
                started=started,
                minutes_per_day=None if mpd is None else float(mpd),
                taken=int(data.get("taken", 0)),
            )
        except StateError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"invalid learner state: {exc!r}") from exc


def new_learner(learner_id: str) -> LearnerState:
    """An empty state for a learner the engine has not seen."""
    return LearnerState(learner_id)


_T = TypeVar("_T", bound="DataclassInstance")


def _positional_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen slotted dataclass `cls` taking every field, in order.

    The generated `__init__` of a frozen dataclass sets each field through
    `object.__setattr__`, and that was most of the cost of an incremental update. This one
    fills an unfrozen twin with the same slots (hence the same memory layout) and then gives
    the object its real class: the result is an ordinary, immutable `cls` instance.
    """
    twin = make_dataclass(
        f"_{cls.__name__}Draft", [(f.name, f.type) for f in fields(cls)], slots=True
    )

    def build(*values: Any) -> _T:
        obj = twin(*values)
        obj.__class__ = cls
        return cast(_T, obj)

    return build


# For the engine's hot paths (`evidence.update`); callers use the classes themselves.
build_competency_state = _positional_constructor(CompetencyState)
build_lesson_record = _positional_constructor(LessonRecord)
build_learner_state = _positional_constructor(LearnerState)
