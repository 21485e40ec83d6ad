"""Validate a catalog document (`skillpath-catalog/1`) and build a `Catalog`.

Pure: imports only the standard library (the architecture keeps marshmallow out of
`recommender/`; the web edge may wrap this function in a schema). Every problem is reported
with the JSON path of the bad field, all problems at once, and nothing is built on error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from .catalog import (
    FORMAT_ID,
    LESSON_FORMATS,
    LESSON_KINDS,
    Catalog,
    Competency,
    GoalLevel,
    Lesson,
    LessonCompetency,
    Milestone,
    Pathway,
    Thresholds,
    prerequisite_graph,
)
from .errors import CatalogError
from .iri import is_absolute_iri

_ID_RE = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")
_TOP = {"format", "competencies", "lessons", "pathways"}
_COMP = {"id", "name", "description", "parent", "mastery_threshold", "critical", "prerequisites"}
_PART = {"id", "weight", "teaches", "measures"}
_LESSON = {
    "id",
    "title",
    "url",
    "kind",
    "format",
    "duration_minutes",
    "difficulty",
    "competencies",
    "requires",
    "alternatives",
    "tags",
}
_PATHWAY = {"id", "title", "role", "goal", "milestones", "thresholds", "next"}


class _Checker:
    """Collects `(path, message)` pairs while reading fields."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object")
            return None
        return value

    def array(
        self, doc: Mapping[str, Any], key: str, path: str, required: bool, min_items: int = 0
    ) -> list[Any]:
        if key not in doc:
            if required:
                self.fail(path, "is required")
            return []
        value = doc[key]
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return []
        if len(value) < min_items:
            self.fail(path, f"must have at least {min_items} item(s)")
        return value

    def string(self, doc: Mapping[str, Any], key: str, path: str, required: bool) -> str | None:
        if key not in doc:
            if required:
                self.fail(path, "is required")
            return None
        value = doc[key]
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return None
        return value

    def ident(self, doc: Mapping[str, Any], key: str, path: str) -> str | None:
        value = self.string(doc, key, path, required=True)
        if value is not None and not _ID_RE.match(value):
            self.fail(path, f'"{value}" must be 1-200 characters of [A-Za-z0-9._:/-]')
            return None
        return value

    def number(
        self,
        doc: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool,
        default: float,
        low: float,
        high: float,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float:
        if key not in doc:
            if required:
                self.fail(path, "is required")
            return default
        value = doc[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "must be a number")
            return default
        low_ok = value > low if low_open else value >= low
        high_ok = value < high if high_open else value <= high
        if not (low_ok and high_ok):
            left = "(" if low_open else "["
            right = ")" if high_open else "]"
            self.fail(path, f"{value} must be in {left}{low:g}, {high:g}{right}")
            return default
        return float(value)


def _extra(doc: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in known}


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle in a directed graph as a list of nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            if children:
                child = children.pop(0)
                if state.get(child) == 1:
                    return path[path.index(child) :] + [child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, sorted(graph.get(child, ()))))
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return None


def load_catalog(document: Mapping[str, Any]) -> Catalog:
    """Validate a parsed catalog document and return a `Catalog`, or raise `CatalogError`.

    The error lists every problem as `(json_path, message)`, for example
    `("lessons[3].competencies[0].id", 'unknown competency "escalaton"')`.
    Unknown extra fields are kept in each object's `extra` mapping.
    """
    check = _Checker()
    top = check.obj(document, "")
    if top is None:
        raise CatalogError(check.errors)
    if top.get("format") != FORMAT_ID:
        check.fail("format", f'must be exactly "{FORMAT_ID}"')
    raw_comps = check.array(top, "competencies", "competencies", required=True, min_items=1)
    raw_lessons = check.array(top, "lessons", "lessons", required=True, min_items=1)
    raw_paths = check.array(top, "pathways", "pathways", required=False)

    comps: dict[str, Competency] = {}
    parents: dict[str, str] = {}
    for i, raw in enumerate(raw_comps):
        p = f"competencies[{i}]"
        doc = check.obj(raw, p)
        if doc is None:
            continue
        cid = check.ident(doc, "id", f"{p}.id")
        name = check.string(doc, "name", f"{p}.name", required=True)
        desc = check.string(doc, "description", f"{p}.description", required=False)
        parent = check.string(doc, "parent", f"{p}.parent", required=False)
        thr = check.number(
            doc,
            "mastery_threshold",
            f"{p}.mastery_threshold",
            required=False,
            default=0.8,
            low=0.0,
            high=1.0,
            low_open=True,
        )
        critical = doc.get("critical", False)
        if not isinstance(critical, bool):
            check.fail(f"{p}.critical", "must be a boolean")
            critical = False
        prerequisites = check.array(doc, "prerequisites", f"{p}.prerequisites", required=False)
        for j, pre in enumerate(prerequisites):
            if not isinstance(pre, str):
                check.fail(f"{p}.prerequisites[{j}]", "must be a competency id")
            elif pre == cid:
                check.fail(f"{p}.prerequisites[{j}]", "a competency cannot be its own prerequisite")
        if cid is None or name is None:
            continue
        if cid in comps:
            check.fail(f"{p}.id", f'duplicate competency id "{cid}"')
            continue
        declared = tuple(dict.fromkeys(x for x in prerequisites if isinstance(x, str) and x != cid))
        comps[cid] = Competency(
            cid, name, desc or "", parent, thr, critical, _extra(doc, _COMP), declared
        )
        if parent is not None:
            parents[cid] = parent
    for i, raw in enumerate(raw_comps):
        if not isinstance(raw, Mapping):
            continue
        if isinstance(raw.get("parent"), str) and raw["parent"] not in comps:
            check.fail(f"competencies[{i}].parent", f'unknown competency "{raw["parent"]}"')
        pres = raw.get("prerequisites")
        for j, pre in enumerate(pres if isinstance(pres, list) else []):
            if isinstance(pre, str) and pre not in comps:
                check.fail(f"competencies[{i}].prerequisites[{j}]", f'unknown competency "{pre}"')
    cycle = _find_cycle({c: {p} for c, p in parents.items() if p in comps})
    if cycle:
        check.fail("competencies", "cycle in parent: " + " -> ".join(cycle))
    declared_graph = {c: {x for x in v.prerequisites if x in comps} for c, v in comps.items()}
    cycle = _find_cycle(declared_graph)
    if cycle:
        check.fail("competencies", "cycle in prerequisites: " + " -> ".join(cycle))

    lessons = _load_lessons(check, raw_lessons, comps)
    if not cycle:
        cycle = _find_cycle(_order_graph(comps, lessons))
        if cycle:
            check.fail("lessons", "cycle in requires: " + " -> ".join(cycle))
    pathways = _load_pathways(check, raw_paths, comps)
    if check.errors:
        raise CatalogError(check.errors)
    return Catalog(comps, lessons, pathways, _extra(top, _TOP))


def _load_lessons(
    check: _Checker, raw_lessons: list[Any], comps: Mapping[str, Competency]
) -> dict[str, Lesson]:
    lessons: dict[str, Lesson] = {}
    for i, raw in enumerate(raw_lessons):
        p = f"lessons[{i}]"
        doc = check.obj(raw, p)
        if doc is None:
            continue
        lid = check.string(doc, "id", f"{p}.id", required=True)
        if lid is not None and not is_absolute_iri(lid):
            check.fail(f"{p}.id", f'"{lid}" must be an absolute IRI')
        title = check.string(doc, "title", f"{p}.title", required=True)
        url = check.string(doc, "url", f"{p}.url", required=False)
        if url is not None and not (is_absolute_iri(url) and urlparse(url).netloc):
            check.fail(f"{p}.url", f'"{url}" must be an absolute URL')
        kind = check.string(doc, "kind", f"{p}.kind", required=False) or "lesson"
        if kind not in LESSON_KINDS:
            check.fail(f"{p}.kind", f'"{kind}" must be one of {", ".join(LESSON_KINDS)}')
        fmt = check.string(doc, "format", f"{p}.format", required=False) or "text"
        if fmt not in LESSON_FORMATS:
            check.fail(f"{p}.format", f'"{fmt}" must be one of {", ".join(LESSON_FORMATS)}')
        duration = check.number(
            doc,
            "duration_minutes",
            f"{p}.duration_minutes",
            required=True,
            default=1.0,
            low=0.0,
            high=float("inf"),
            low_open=True,
        )
        difficulty = check.number(
            doc, "difficulty", f"{p}.difficulty", required=False, default=0.5, low=0.0, high=1.0
        )
        parts: list[LessonCompetency] = []
        for j, rc in enumerate(
            check.array(doc, "competencies", f"{p}.competencies", required=True, min_items=1)
        ):
            cp = f"{p}.competencies[{j}]"
            cdoc = check.obj(rc, cp)
            if cdoc is None:
                continue
            cid = check.string(cdoc, "id", f"{cp}.id", required=True)
            part = _lesson_part(check, cdoc, cp, kind)
            if cid is not None and cid not in comps:
                check.fail(f"{cp}.id", f'unknown competency "{cid}"')
            elif cid is not None and part is not None:
                parts.append(LessonCompetency(cid, *part))
        requires: list[str] = []
        for j, rid in enumerate(check.array(doc, "requires", f"{p}.requires", required=False)):
            if not isinstance(rid, str) or rid not in comps:
                check.fail(f"{p}.requires[{j}]", f'unknown competency "{rid}"')
            else:
                requires.append(rid)
        alternatives: list[str] = []
        for j, aid in enumerate(
            check.array(doc, "alternatives", f"{p}.alternatives", required=False)
        ):
            if not isinstance(aid, str):
                check.fail(f"{p}.alternatives[{j}]", "must be a string")
            else:
                alternatives.append(aid)
        tags: dict[str, tuple[str, ...]] = {}
        if "tags" in doc:
            tdoc = check.obj(doc["tags"], f"{p}.tags")
            for key, values in (tdoc or {}).items():
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    check.fail(f"{p}.tags.{key}", "must be an array of strings")
                else:
                    tags[key] = tuple(values)
        if lid is None or title is None:
            continue
        if lid in lessons:
            check.fail(f"{p}.id", f'duplicate lesson id "{lid}"')
            continue
        lessons[lid] = Lesson(
            lid,
            title,
            duration,
            tuple(parts),
            url,
            kind,
            fmt,
            difficulty,
            tuple(requires),
            tuple(alternatives),
            tags,
            _extra(doc, _LESSON),
        )
    for i, raw in enumerate(raw_lessons):
        if isinstance(raw, Mapping) and isinstance(raw.get("alternatives"), list):
            for j, aid in enumerate(raw["alternatives"]):
                if isinstance(aid, str) and aid not in lessons:
                    check.fail(f"lessons[{i}].alternatives[{j}]", f'unknown lesson "{aid}"')
    return lessons


def _lesson_part(
    check: _Checker, doc: Mapping[str, Any], path: str, kind: str
) -> tuple[float, float, float] | None:
    """(weight, teaches, measures) of one lesson competency, or None when it is invalid.

    `weight` (version 1) stands for both; `teaches` and `measures` say each apart and default
    to `weight`, or to 0 when there is no `weight`.
    """
    split = "teaches" in doc or "measures" in doc
    errors = len(check.errors)
    weight = check.number(
        doc,
        "weight",
        f"{path}.weight",
        required=not split,
        default=0.0,
        low=0.0,
        high=1.0,
        low_open=True,
    )
    fallback = weight if "weight" in doc else 0.0
    teaches = check.number(
        doc, "teaches", f"{path}.teaches", required=False, default=fallback, low=0.0, high=1.0
    )
    measures = check.number(
        doc, "measures", f"{path}.measures", required=False, default=fallback, low=0.0, high=1.0
    )
    if kind == "assessment" and "teaches" in doc and teaches > 0.0:
        check.fail(f"{path}.teaches", "an assessment teaches nothing (make it a practice)")
    if split and teaches == 0.0 and measures == 0.0 and len(check.errors) == errors:
        check.fail(path, "must teach or measure the competency (teaches or measures above 0)")
    if len(check.errors) > errors:
        return None
    if "weight" not in doc:
        weight = max(teaches, measures)
    return weight, teaches, measures


def _order_graph(
    comps: Mapping[str, Competency], lessons: Mapping[str, Lesson]
) -> dict[str, set[str]]:
    """What must come before what: the prerequisite graph (declared, or read from the
    lessons' `requires` in a version-1 catalog), plus, for each competency that lessons
    teach, the competencies that every lesson teaching it requires (none of them can be
    taken before those). A cycle here is a real one: no order of learning satisfies it."""
    graph = prerequisite_graph(comps.values(), lessons.values())
    routes: dict[str, list[set[str]]] = {}
    for lesson in lessons.values():
        for part in lesson.competencies:
            if part.teaches > 0.0 and part.id not in lesson.requires:
                routes.setdefault(part.id, []).append(set(lesson.requires))
    for comp, needs in routes.items():
        graph[comp] = graph.get(comp, set()) | set.intersection(*needs)
    return graph


def _load_pathways(
    check: _Checker, raw_paths: list[Any], comps: Mapping[str, Competency]
) -> dict[str, Pathway]:
    pathways: dict[str, Pathway] = {}
    for i, raw in enumerate(raw_paths):
        p = f"pathways[{i}]"
        doc = check.obj(raw, p)
        if doc is None:
            continue
        pid = check.ident(doc, "id", f"{p}.id")
        title = check.string(doc, "title", f"{p}.title", required=True)
        role = check.string(doc, "role", f"{p}.role", required=False)
        goal: list[GoalLevel] = []
        for j, rg in enumerate(check.array(doc, "goal", f"{p}.goal", required=True, min_items=1)):
            gp = f"{p}.goal[{j}]"
            gdoc = check.obj(rg, gp)
            if gdoc is None:
                continue
            cid = check.string(gdoc, "competency", f"{gp}.competency", required=True)
            level = check.number(
                gdoc,
                "level",
                f"{gp}.level",
                required=True,
                default=0.8,
                low=0.0,
                high=1.0,
                low_open=True,
            )
            if cid is not None and cid not in comps:
                check.fail(f"{gp}.competency", f'unknown competency "{cid}"')
            elif cid is not None:
                goal.append(GoalLevel(cid, level))
        milestones: list[Milestone] = []
        seen_ms: set[str] = set()
        for j, rm in enumerate(check.array(doc, "milestones", f"{p}.milestones", required=False)):
            mp = f"{p}.milestones[{j}]"
            mdoc = check.obj(rm, mp)
            if mdoc is None:
                continue
            mid = check.string(mdoc, "id", f"{mp}.id", required=True)
            mtitle = check.string(mdoc, "title", f"{mp}.title", required=True)
            mcomps: list[str] = []
            for k, mc in enumerate(
                check.array(mdoc, "competencies", f"{mp}.competencies", required=True)
            ):
                if not isinstance(mc, str) or mc not in comps:
                    check.fail(f"{mp}.competencies[{k}]", f'unknown competency "{mc}"')
                else:
                    mcomps.append(mc)
            due: int | None = None
            if "due_days" in mdoc:
                raw_due = mdoc["due_days"]
                if isinstance(raw_due, bool) or not isinstance(raw_due, int) or raw_due < 0:
                    check.fail(f"{mp}.due_days", "must be an integer >= 0")
                else:
                    due = raw_due
            if mid is not None and mid in seen_ms:
                check.fail(f"{mp}.id", f'duplicate milestone id "{mid}"')
            if mid is not None and mtitle is not None:
                seen_ms.add(mid)
                milestones.append(Milestone(mid, mtitle, tuple(mcomps), due))
        thresholds = Thresholds()
        if "thresholds" in doc:
            tdoc = check.obj(doc["thresholds"], f"{p}.thresholds")
            if tdoc is not None:
                low = check.number(
                    tdoc,
                    "remediate_below",
                    f"{p}.thresholds.remediate_below",
                    required=False,
                    default=0.6,
                    low=0.0,
                    high=1.0,
                )
                high = check.number(
                    tdoc,
                    "skip_at_or_above",
                    f"{p}.thresholds.skip_at_or_above",
                    required=False,
                    default=0.9,
                    low=0.0,
                    high=1.0,
                )
                if low > high:
                    check.fail(
                        f"{p}.thresholds", "remediate_below must not exceed skip_at_or_above"
                    )
                thresholds = Thresholds(low, high)
        nxt: list[str] = []
        for j, nid in enumerate(check.array(doc, "next", f"{p}.next", required=False)):
            if not isinstance(nid, str):
                check.fail(f"{p}.next[{j}]", "must be a string")
            else:
                nxt.append(nid)
        if pid is None or title is None:
            continue
        if pid in pathways:
            check.fail(f"{p}.id", f'duplicate pathway id "{pid}"')
            continue
        pathways[pid] = Pathway(
            pid,
            title,
            tuple(goal),
            role,
            tuple(milestones),
            thresholds,
            tuple(nxt),
            _extra(doc, _PATHWAY),
        )
    for i, raw in enumerate(raw_paths):
        if isinstance(raw, Mapping) and isinstance(raw.get("next"), list):
            for j, nid in enumerate(raw["next"]):
                if isinstance(nid, str) and nid not in pathways:
                    check.fail(f"pathways[{i}].next[{j}]", f'unknown pathway "{nid}"')
    return pathways
