"""Lenient reading of statement pages into `recommender.Observation` values.

Each statement is read on its own: a malformed one is skipped, counted and logged with its id,
and the rest of the page still counts. Statements are deduplicated by id; voiding is honoured
whether the voiding statement comes before or after its target (even pages later). A statement
counts for a catalog lesson when its `object.id` is the lesson id, or when its
`context.contextActivities` parent or grouping holds it. Scores follow the catalog format:
`result.score.scaled` (a negative one clamped to 0), else `(raw - min) / (max - min)`, else 1/0
from `result.success`; no score and no success is exposure (score None).

Must not import flask, sqlalchemy or any HTTP client: it reads JSON values only.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from recommender.observation import Observation
from xapi.identity import ActorMatcher
from xapi.timestamps import parse_timestamp
from xapi.vocabulary import SKILLPATH_IRI

__all__ = ["EvidenceReader", "ReadCounts", "VOIDED_VERB", "parse_evidence"]

log = logging.getLogger(__name__)

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
_DURATION = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


class MalformedStatement(ValueError):
    """A statement that breaks a rule the reader relies on; it is skipped, never raised out."""


@dataclass(frozen=True, slots=True)
class ReadCounts:
    """What happened to the statements read: every statement read lands in one bucket
    except `voided`, which counts statements that stopped counting because of voiding."""

    read: int = 0
    mapped: int = 0
    skipped_malformed: int = 0
    voided: int = 0
    voiding: int = 0
    duplicate: int = 0
    unmatched: int = 0

    def __add__(self, other: ReadCounts) -> ReadCounts:
        return ReadCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(ReadCounts)}
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one well-formed statement says: its observations, or the id it voids."""

    statement_id: str
    stored: datetime | None
    observations: tuple[Observation, ...] = ()
    voids: str | None = None


def parse_evidence(statement: Any, lesson_ids: Collection[str], matcher: ActorMatcher) -> Evidence:
    """Read one statement; raise `MalformedStatement` when it cannot be trusted."""
    if not isinstance(statement, dict):
        raise MalformedStatement("statement is not an object")
    sid = statement.get("id")
    try:
        statement_id = str(uuid.UUID(str(sid)))
    except ValueError as error:
        raise MalformedStatement(f"statement id {sid!r} is not a UUID") from error
    try:
        stored = parse_timestamp(statement["stored"]) if "stored" in statement else None
        verb = _mapping(statement.get("verb"), "verb")
        verb_id = verb.get("id")
        if not isinstance(verb_id, str) or ":" not in verb_id:
            raise MalformedStatement("verb.id is not an IRI")
        target = _mapping(statement.get("object"), "object")
        if verb_id == VOIDED_VERB:
            if target.get("objectType") != "StatementRef" or not isinstance(target.get("id"), str):
                raise MalformedStatement("a voiding statement must target a StatementRef")
            return Evidence(statement_id, stored, voids=str(target["id"]).lower())
        timestamp = parse_timestamp(statement.get("timestamp", statement.get("stored")))
        learner = matcher.learner_key(statement.get("actor"))
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, MalformedStatement):
            raise
        raise MalformedStatement(str(error)) from error
    if _written_by_skillpath(statement):
        return Evidence(statement_id, stored)  # our own statements are not evidence
    lessons = _lessons_of(statement, target, lesson_ids)
    if learner is None or not lessons:
        return Evidence(statement_id, stored)
    score, success, duration = _result_of(statement.get("result"))
    try:
        observations = tuple(
            Observation(
                learner_id=learner,
                lesson_id=lesson,
                timestamp=timestamp,
                score=score,
                success=success,
                duration_seconds=duration,
                statement_id=statement_id,
            )
            for lesson in lessons
        )
    except ValueError as error:
        raise MalformedStatement(str(error)) from error
    return Evidence(statement_id, stored, observations=observations)


def _written_by_skillpath(statement: Mapping[str, Any]) -> bool:
    context = statement.get("context")
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    category = activities.get("category") if isinstance(activities, dict) else None
    if isinstance(category, Mapping):
        category = [category]
    if not isinstance(category, list):
        return False
    return any(
        isinstance(a, Mapping) and str(a.get("id", "")).startswith(SKILLPATH_IRI + "/")
        for a in category
    )


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    # JSON objects arrive as dicts; checking `dict` is much cheaper than the Mapping ABC.
    if not isinstance(value, dict):
        raise MalformedStatement(f"{name} is not an object")
    return value


def _lessons_of(
    statement: Mapping[str, Any], target: Mapping[str, Any], lesson_ids: Collection[str]
) -> tuple[str, ...]:
    object_id = target.get("id")
    if isinstance(object_id, str) and object_id in lesson_ids:
        return (object_id,)
    context = statement.get("context")
    if not isinstance(context, dict):
        return ()
    activities = context.get("contextActivities")
    if not isinstance(activities, dict):
        return ()
    found: list[str] = []
    for kind in ("parent", "grouping"):
        listed = activities.get(kind, [])
        if isinstance(listed, Mapping):  # xAPI allows a single object here
            listed = [listed]
        if not isinstance(listed, list):
            raise MalformedStatement(f"context.contextActivities.{kind} is not a list")
        for activity in listed:
            aid = activity.get("id") if isinstance(activity, Mapping) else None
            if isinstance(aid, str) and aid in lesson_ids and aid not in found:
                found.append(aid)
    return tuple(found)


def _result_of(result: Any) -> tuple[float | None, bool | None, float | None]:
    if result is None:
        return None, None, None
    result = _mapping(result, "result")
    success = result.get("success")
    if success is not None and not isinstance(success, bool):
        raise MalformedStatement("result.success is not a boolean")
    score = _score_of(result.get("score"), success)
    duration = _seconds(result.get("duration"))
    return score, success, duration


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedStatement(f"result.score.{name} is not a number")
    return float(value)


def _score_of(score: Any, success: bool | None) -> float | None:
    if score is not None:
        score = _mapping(score, "result.score")
        scaled = _number(score.get("scaled"), "scaled")
        raw = _number(score.get("raw"), "raw")
        low = _number(score.get("min"), "min")
        high = _number(score.get("max"), "max")
        if scaled is not None:
            if not -1.0 <= scaled <= 1.0:
                raise MalformedStatement(f"result.score.scaled {scaled} is outside [-1, 1]")
            return max(scaled, 0.0)  # mastery evidence has no negative side
        if raw is not None and low is not None and high is not None:
            if not low < high or not low <= raw <= high:
                raise MalformedStatement("result.score needs min < max and min <= raw <= max")
            return (raw - low) / (high - low)
    if success is not None:
        return 1.0 if success else 0.0
    return None


def _seconds(duration: Any) -> float | None:
    if not isinstance(duration, str):
        return None
    match = _DURATION.match(duration)
    if match is None:
        return None  # a duration we cannot read is not worth dropping the evidence for
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


class EvidenceReader:
    """Reads statements page after page, deduplicating and honouring voiding.

    `seen_ids` are statement ids already read by an earlier sync (from the cursor): they are
    duplicates here. Call `add_page` for each page, then `observations()`.
    """

    def __init__(
        self,
        lesson_ids: Collection[str],
        matcher: ActorMatcher,
        seen_ids: Iterable[str] = (),
    ) -> None:
        self._lessons = frozenset(lesson_ids)
        self._matcher = matcher
        self._seen: set[str] = {s.lower() for s in seen_ids}
        self._by_id: dict[str, tuple[Observation, ...]] = {}
        self._voided: set[str] = set()
        self._stored: dict[str, datetime] = {}
        self._counts: dict[str, int] = {f.name: 0 for f in fields(ReadCounts)}

    @property
    def counts(self) -> ReadCounts:
        """How many statements went where, so far."""
        return ReadCounts(**self._counts)

    @property
    def voided_ids(self) -> frozenset[str]:
        """Ids of statements voided by statements read here; the caller also drops any
        observation it stored earlier with one of these ids."""
        return frozenset(self._voided)

    @property
    def stored_times(self) -> Mapping[str, datetime]:
        """`stored` of every statement read here (for the sync cursor)."""
        return self._stored

    def add_page(self, statements: Iterable[Any]) -> None:
        """Read one page's statements, each on its own."""
        for statement in statements:
            self.add(statement)

    def add(self, statement: Any) -> None:
        """Read one statement; never raises for a bad statement."""
        bump = {"read": 1}
        try:
            evidence = parse_evidence(statement, self._lessons, self._matcher)
        except MalformedStatement as error:
            sid = statement.get("id") if isinstance(statement, dict) else None
            log.warning("skipping malformed statement %s: %s", sid, error)
            bump["skipped_malformed"] = 1
            self._note_stored(statement)
            self._bump(bump)
            return
        sid = evidence.statement_id
        if evidence.stored is not None:
            self._stored[sid] = evidence.stored
        if sid in self._seen:
            bump["duplicate"] = 1
        elif evidence.voids is not None:
            bump["voiding"] = 1
            self._voided.add(evidence.voids)
            if self._by_id.pop(evidence.voids, None):
                bump["voided"] = 1
        elif sid in self._voided:
            bump["voided"] = 1
        elif evidence.observations:
            bump["mapped"] = 1
            self._by_id[sid] = evidence.observations
        else:
            bump["unmatched"] = 1
        self._seen.add(sid)
        self._bump(bump)

    def observations(self) -> list[Observation]:
        """The observations that still count, in reading order."""
        return [obs for observations in self._by_id.values() for obs in observations]

    def _note_stored(self, statement: Any) -> None:
        if not isinstance(statement, dict):
            return
        try:
            self._stored[str(statement["id"])] = parse_timestamp(statement["stored"])
        except (KeyError, ValueError):
            pass

    def _bump(self, changes: Mapping[str, int]) -> None:
        for key, value in changes.items():
            self._counts[key] += value
