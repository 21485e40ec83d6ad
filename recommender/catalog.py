"""The catalog model: competencies, lessons and pathways as immutable dataclasses.

Pure: imports only the standard library. `load_catalog` (in `catalog_loader`) builds a
`Catalog` from a JSON document; this module holds the shapes and the lookups the policy needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import UnknownIdError

FORMAT_ID = "skillpath-catalog/1"
LESSON_KINDS = ("lesson", "practice", "assessment")
LESSON_FORMATS = ("video", "text", "interactive", "simulation", "scenario", "audio")


@dataclass(frozen=True, slots=True)
class Competency:
    """Something that can be learned; `parent` places it in a framework tree;
    `prerequisites` are the competencies the catalog says must be learned before it."""

    id: str
    name: str
    description: str = ""
    parent: str | None = None
    mastery_threshold: float = 0.8
    critical: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LessonCompetency:
    """One competency of a lesson: how much the lesson teaches it and how much its score
    measures it, each in [0, 1].

    `weight` is the version-1 field that stands for both; `teaches` and `measures` default to
    it. `weight` itself defaults to the larger of the two when only they are given.
    """

    id: str
    weight: float = 1.0
    teaches: float = -1.0  # -1: the same as `weight`
    measures: float = -1.0

    def __post_init__(self) -> None:
        if self.teaches < 0.0:
            object.__setattr__(self, "teaches", self.weight)
        if self.measures < 0.0:
            object.__setattr__(self, "measures", self.weight)


@dataclass(frozen=True, slots=True)
class Lesson:
    """One micro-learning unit; its id is also the xAPI activity id."""

    id: str
    title: str
    duration_minutes: float
    competencies: tuple[LessonCompetency, ...]
    url: str | None = None
    kind: str = "lesson"
    format: str = "text"
    difficulty: float = 0.5
    requires: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The largest competency weight (the lesson's main competencies have it): computed once.
    main_weight: float = field(init=False, repr=False, compare=False, default=0.0)
    # Sum of `measures` over the parts (0: the lesson's score says nothing about mastery).
    measured: float = field(init=False, repr=False, compare=False, default=0.0)
    # The competencies with the largest weight.
    mains: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.kind == "assessment" and any(p.teaches for p in self.competencies):
            # An assessment measures and teaches nothing: whatever its parts say.
            parts = tuple(replace(p, teaches=0.0) for p in self.competencies)
            object.__setattr__(self, "competencies", parts)
        top = max((part.weight for part in self.competencies), default=0.0)
        object.__setattr__(self, "main_weight", top)
        object.__setattr__(self, "measured", sum(p.measures for p in self.competencies))
        mains = frozenset(p.id for p in self.competencies if p.weight >= top)
        object.__setattr__(self, "mains", mains)


def is_main(lesson: Lesson, competency_id: str) -> bool:
    """Is the competency the lesson's main one (largest weight, ties included)?"""
    return competency_id in lesson.mains


def main_competencies(lesson: Lesson) -> tuple[str, ...]:
    """The competencies a lesson is mainly about (largest weight, ties included)."""
    return tuple(part.id for part in lesson.competencies if part.id in lesson.mains)


@dataclass(frozen=True, slots=True)
class GoalLevel:
    """A goal of a pathway: reach `level` on `competency`."""

    competency: str
    level: float


@dataclass(frozen=True, slots=True)
class Milestone:
    """An ordered checkpoint: complete when all its competencies are mastered."""

    id: str
    title: str
    competencies: tuple[str, ...]
    due_days: int | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Scaled-score thresholds: remediate below the first, skip at or above the second."""

    remediate_below: float = 0.6
    skip_at_or_above: float = 0.9


@dataclass(frozen=True, slots=True)
class Pathway:
    """A role or goal based path through the catalog."""

    id: str
    title: str
    goal: tuple[GoalLevel, ...]
    role: str | None = None
    milestones: tuple[Milestone, ...] = ()
    thresholds: Thresholds = Thresholds()
    next: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class Catalog:
    """A validated catalog with the indexes the engine uses (built once, read many times)."""

    def __init__(
        self,
        competencies: Mapping[str, Competency],
        lessons: Mapping[str, Lesson],
        pathways: Mapping[str, Pathway],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.competencies: dict[str, Competency] = dict(competencies)
        self.lessons: dict[str, Lesson] = dict(lessons)
        self.pathways: dict[str, Pathway] = dict(pathways)
        self.extra: dict[str, Any] = dict(extra or {})
        by_comp: dict[str, list[Lesson]] = {c: [] for c in self.competencies}
        for lesson in self.lessons.values():
            for part in lesson.competencies:
                by_comp[part.id].append(lesson)
        self._lessons_by_competency = {c: tuple(v) for c, v in by_comp.items()}
        self.declares_prerequisites = any(c.prerequisites for c in self.competencies.values())
        self._prerequisites = {
            c: tuple(sorted(v))
            for c, v in prerequisite_graph(
                self.competencies.values(), self.lessons.values()
            ).items()
        }
        self._reach: dict[str, tuple[float, float]] = {}
        self._pathway_order: dict[str, list[str]] = {}
        self._pathway_set: dict[str, frozenset[str]] = {}
        self._closure: dict[str, frozenset[str]] = {}

    def competency(self, competency_id: str) -> Competency:
        """The competency with this id, or `UnknownIdError`."""
        try:
            return self.competencies[competency_id]
        except KeyError:
            raise UnknownIdError(f'unknown competency "{competency_id}"') from None

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson with this id, or `UnknownIdError`."""
        try:
            return self.lessons[lesson_id]
        except KeyError:
            raise UnknownIdError(f'unknown lesson "{lesson_id}"') from None

    def pathway(self, pathway_id: str | None = None) -> Pathway:
        """The pathway with this id; with `None`, the catalog's only pathway."""
        if pathway_id is None:
            if len(self.pathways) == 1:
                return next(iter(self.pathways.values()))
            raise UnknownIdError("the catalog has several pathways; name one")
        try:
            return self.pathways[pathway_id]
        except KeyError:
            raise UnknownIdError(f'unknown pathway "{pathway_id}"') from None

    def lessons_for(self, competency_id: str) -> tuple[Lesson, ...]:
        """Lessons that teach or measure a competency."""
        return self._lessons_by_competency.get(competency_id, ())

    def reach(self, competency_id: str) -> tuple[float, float]:
        """(teaches, measures): the most any lesson mainly about the competency teaches it
        and measures it (any lesson on it, when none is mainly about it). Cached."""
        found = self._reach.get(competency_id)
        if found is None:
            lessons = self.lessons_for(competency_id)
            mainly = [x for x in lessons if competency_id in x.mains] or list(lessons)
            parts = [p for x in mainly for p in x.competencies if p.id == competency_id]
            found = (
                max((p.teaches for p in parts), default=0.0),
                max((p.measures for p in parts), default=0.0),
            )
            self._reach[competency_id] = found
        return found

    def prerequisites(self, competency_id: str) -> tuple[str, ...]:
        """The competency's prerequisites (one hop back): as the competencies declare them,
        or, in a catalog where none does, what the lessons mainly about it require."""
        return self._prerequisites.get(competency_id, ())

    def prerequisites_within(self, competency_id: str, hops: int) -> list[str]:
        """Prerequisites up to `hops` steps back, nearest first, without repeats."""
        seen = {competency_id}
        frontier = [competency_id]
        found: list[str] = []
        for _ in range(hops):
            nxt: list[str] = []
            for comp in frontier:
                for pre in self.prerequisites(comp):
                    if pre not in seen:
                        seen.add(pre)
                        found.append(pre)
                        nxt.append(pre)
            frontier = nxt
        return found

    def pathway_competencies(self, pathway: Pathway) -> list[str]:
        """Goal and milestone competencies plus all their prerequisites, prerequisites first.

        Computed once per pathway (the catalog is immutable) without recursion, so deep
        prerequisite chains in large catalogs are fine.
        """
        cached = self._pathway_order.get(pathway.id)
        if cached is not None:
            return cached
        roots = [m_c for m in pathway.milestones for m_c in m.competencies]
        roots += [g.competency for g in pathway.goal]
        order: list[str] = []
        seen: set[str] = set()
        for root in roots:
            if root in seen:
                continue
            seen.add(root)
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                comp, i = stack.pop()
                pres = self.prerequisites(comp)
                if i < len(pres):
                    stack.append((comp, i + 1))
                    if pres[i] not in seen:
                        seen.add(pres[i])
                        stack.append((pres[i], 0))
                else:
                    order.append(comp)
        self._pathway_order[pathway.id] = order
        return order

    def pathway_competency_set(self, pathway: Pathway) -> frozenset[str]:
        """`pathway_competencies` as a set (cached)."""
        found = self._pathway_set.get(pathway.id)
        if found is None:
            found = frozenset(self.pathway_competencies(pathway))
            self._pathway_set[pathway.id] = found
        return found

    def closure(self, competency_id: str) -> frozenset[str]:
        """A competency and all its prerequisites, transitively (cached)."""
        cached = self._closure.get(competency_id)
        if cached is None:
            cached = frozenset(
                [competency_id, *self.prerequisites_within(competency_id, len(self.competencies))]
            )
            self._closure[competency_id] = cached
        return cached


def prerequisite_graph(
    competencies: Iterable[Competency], lessons: Iterable[Lesson]
) -> dict[str, set[str]]:
    """Competency -> its prerequisites.

    When any competency declares `prerequisites`, those are the graph and a lesson's
    `requires` only gates that lesson. Otherwise (how version-1 catalogs said it) a lesson's
    `requires` are read as prerequisites of the competencies the lesson is mainly about; a
    competency that is only a minor part of the lesson (reviewed or touched on) does not
    inherit them.
    """
    comps = list(competencies)
    graph: dict[str, set[str]] = {c.id: set(c.prerequisites) for c in comps}
    if any(graph.values()):
        return graph
    for lesson in lessons:
        for main in main_competencies(lesson):
            graph[main].update(r for r in lesson.requires if r != main)
    return graph
