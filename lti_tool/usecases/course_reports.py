"""What an instructor reads about the course as a whole: lesson effectiveness and time to
proficiency (the engine's `cohort_analytics`), the equity report across groups the
organisation defines (`equity_audit`, from a roster field or a CSV of `sub,group`), and CSV
exports of completions, assessments and mastery for compliance records.

Only the instructor's own course: learners are those with a record in it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Any

from lti_tool.errors import InvalidBody, NotFound, RosterUnavailable
from lti_tool.inputs import text_problem
from lti_tool.lti.services.nrps import read_roster
from lti_tool.storage import ClassMember, LaunchRecord, Transaction
from lti_tool.usecases.model import params_for
from lti_tool.usecases.ports import Ports
from recommender import Catalog, Recommendation, cohort_analytics, equity_audit

# Groups smaller than this are not reported: their rates say little and could point at people.
MIN_GROUP_SIZE = 5
MAX_GROUP_ROWS = 100_000
GROUP_SOURCES = ("csv", "status", "email_domain")
EXPORTS = ("completions", "assessments", "mastery")
METRIC_NAMES = {
    "advanced_rate": "advanced lessons recommended",
    "remedial_rate": "remedial lessons recommended",
    "milestone_rate": "milestones reached",
}


def _course(tx: Transaction, instructor: LaunchRecord) -> tuple[Catalog, list[ClassMember]]:
    if not instructor.context_id:
        raise NotFound("This link has no course context, so it has no class.")
    catalog = tx.catalogs.for_tenant(instructor.tenant)
    if catalog is None:
        raise NotFound("This course has no Skillpath catalog yet.")
    return catalog, tx.learner_pages.class_members(instructor.course)


def lesson_effectiveness(ports: Ports, instructor: LaunchRecord) -> dict[str, Any]:
    """Per lesson: attempts, struggle rate, learning gain, flagged for review (and why); per
    competency: learners, proficient, median minutes and days to proficiency."""
    with ports.storage.transaction() as tx:
        catalog, members = _course(tx, instructor)
        subjects = {m.subject for m in members}
        history = tx.evidence.for_subjects(instructor.tenant, subjects)
        params = params_for(tx, instructor.tenant)
    report = cohort_analytics(catalog, history, params)
    lessons: list[dict[str, Any]] = [
        {
            "lesson_id": s.lesson_id,
            "title": catalog.lessons[s.lesson_id].title,
            "kind": catalog.lessons[s.lesson_id].kind,
            "attempts": s.attempts,
            "learners": s.learners,
            "struggle_rate": s.struggle_rate,
            "learning_gain": s.learning_gain,
            "flagged": s.flagged,
            "flag_reasons": list(s.flag_reasons),
        }
        for s in report.lessons.values()
        if s.attempts
    ]
    competencies: list[dict[str, Any]] = [
        {
            "competency_id": c.competency_id,
            "name": catalog.competency(c.competency_id).name,
            "learners": c.learners,
            "proficient": c.proficient,
            "median_minutes_to_proficiency": c.median_minutes_to_proficiency,
            "median_days_to_proficiency": c.median_days_to_proficiency,
        }
        for c in report.competencies.values()
        if c.learners
    ]
    lessons.sort(key=lambda s: (not s["flagged"], -(s["struggle_rate"] or 0.0), s["title"]))
    competencies.sort(key=lambda c: c["name"])
    return {
        "learners": len(subjects),
        "observations": len(history),
        "lessons": lessons,
        "competencies": competencies,
        "flagged": [s["lesson_id"] for s in lessons if s["flagged"]],
    }


# -- groups and the equity report ----------------------------------------------------------


def parse_groups(text: str) -> dict[str, str]:
    """A CSV of `sub,group` (a header line `sub,group` is allowed); InvalidBody names the
    first bad line."""
    groups: dict[str, str] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidBody(f"line {reader.line_num}: not CSV ({exc})") from None
    for number, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row[:2]] == ["sub", "group"]:
            continue
        if len(row) != 2:
            raise InvalidBody(f"line {number}: expected two columns, sub and group")
        sub, group = row[0].strip(), row[1].strip()
        if not sub or not group or len(sub) > 500 or len(group) > 200:
            raise InvalidBody(f"line {number}: sub (1-500 characters) and group (1-200)")
        problem = text_problem(sub, 500) or text_problem(group, 200)
        if problem:
            raise InvalidBody(f"line {number}: {problem}")
        groups[sub] = group
        if len(groups) > MAX_GROUP_ROWS:
            raise InvalidBody(f"at most {MAX_GROUP_ROWS} lines")
    if not groups:
        raise InvalidBody("the CSV has no lines of sub,group")
    return groups


def save_groups(ports: Ports, instructor: LaunchRecord, text: str) -> int:
    """Replace the course's groups with the CSV's; returns how many learners it names."""
    groups = parse_groups(text)
    with ports.storage.transaction() as tx:
        _course(tx, instructor)
        tx.groups.replace(instructor.course, groups)
    return len(groups)


def _groups_from(ports: Ports, instructor: LaunchRecord, source: str) -> dict[str, str]:
    if source == "csv":
        with ports.storage.transaction() as tx:
            return tx.groups.of_course(instructor.course)
    try:
        roster = read_roster(ports.lti_services, ports.store, instructor)
    except RosterUnavailable as exc:
        raise NotFound(exc.message) from None
    found: dict[str, str] = {}
    for member in roster:
        if source == "status":
            found[member.user_id] = member.status
        elif member.email and "@" in member.email:
            found[member.user_id] = member.email.rsplit("@", 1)[1].lower()
    return found


def equity_report(ports: Ports, instructor: LaunchRecord, source: str = "csv") -> dict[str, Any]:
    """Rates per group (advanced and remedial recommendations, milestones reached), disparity
    ratios against the highest group, the metrics failing the four-fifths rule, and a
    reading in plain words. Groups under `MIN_GROUP_SIZE` learners are left out, named."""
    if source not in GROUP_SOURCES:
        raise InvalidBody(f"group_by: one of {', '.join(GROUP_SOURCES)}")
    groups = _groups_from(ports, instructor, source)
    with ports.storage.transaction() as tx:
        catalog, members = _course(tx, instructor)
    summaries = {m.subject: m.summary for m in members if m.summary}
    sizes: dict[str, int] = {}
    for subject in summaries:
        group = groups.get(subject, "(no group)")
        sizes[group] = sizes.get(group, 0) + 1
    small = sorted(g for g, n in sizes.items() if n < MIN_GROUP_SIZE)
    kept = {s: groups.get(s, "(no group)") for s in summaries}
    kept = {s: g for s, g in kept.items() if g not in small}
    recommendations = [
        (s, Recommendation.from_dict(summaries[s]["recommendation"]))
        for s in kept
        if summaries[s].get("recommendation")
    ]
    reached: Mapping[str, Mapping[str, bool]] = {
        s: dict(summaries[s].get("milestones_reached") or {}) for s in kept
    }
    report = equity_audit(catalog, recommendations, kept, reached)
    data = report.to_dict()
    readings = []
    for metric, ratios in report.disparity.items():
        low = min(ratios, key=lambda g: ratios[g])
        top = max(ratios, key=lambda g: ratios[g])
        readings.append(
            {
                "metric": metric,
                "group": low,
                "reference_group": top,
                "ratio": round(ratios[low], 3),
                "flagged": metric in report.flags,
                "text": _reading(metric, low, top, ratios[low], metric in report.flags),
            }
        )
    return {
        "group_by": source,
        "groups": data["groups"],
        "disparity": data["disparity"],
        "flags": data["flags"],
        "readings": readings,
        "left_out": [{"group": g, "learners": sizes[g]} for g in small],
        "min_group_size": MIN_GROUP_SIZE,
        "learners": len(summaries),
    }


def _reading(metric: str, group: str, top: str, ratio: float, flagged: bool) -> str:
    what = METRIC_NAMES[metric]
    text = (
        f"For {what}, group {group} is at {ratio:.2f} times the rate of group {top}, the highest."
    )
    if flagged:
        return text + " That is below the four-fifths line (0.80): worth a closer look."
    return text + " That is within the four-fifths line (0.80)."


# -- CSV exports ---------------------------------------------------------------------------


def _safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def export_csv(
    ports: Ports,
    instructor: LaunchRecord,
    kind: str,
    label: Callable[[Mapping[str, Any]], str],
) -> str:
    """`completions` (every attempt kept as evidence), `assessments` (assessment attempts and
    pre-assessment scores) or `mastery` (each learner x competency, as the heatmap shows).
    The `sub` column identifies the learner (to join with the LMS's records, or to write the
    equity report's groups); the `name` column is what the pages show, `label` of the
    learner's name and number in the course ("Learner 7" when the platform shares no name)."""
    if kind not in EXPORTS:
        raise NotFound(f"No export named {kind!r}: {', '.join(EXPORTS)}.")
    with ports.storage.transaction() as tx:
        catalog, members = _course(tx, instructor)
        numbers = tx.learner_pages.learner_numbers(instructor.course)
        names = {
            m.subject: label({"name": m.display_name, "number": numbers.get(m.subject)})
            for m in members
        }
        if kind == "mastery":
            rows = []
            for m in sorted(members, key=lambda m: (m.subject, m.pathway_id)):
                for comp_id, cell in sorted((m.summary or {}).get("mastery", {}).items()):
                    rows.append(
                        [
                            m.subject,
                            names[m.subject],
                            m.pathway_id,
                            comp_id,
                            catalog.competencies[comp_id].name
                            if comp_id in catalog.competencies
                            else comp_id,
                            cell.get("status"),
                            round(100 * float(cell.get("p", 0.0))),
                            cell.get("p"),
                            m.computed_at.isoformat() if m.computed_at else "",
                        ]
                    )
            return _csv(
                [
                    "sub",
                    "name",
                    "pathway",
                    "competency_id",
                    "competency",
                    "status",
                    "percent",
                    "probability",
                    "as_of",
                ],
                rows,
            )
        history = tx.evidence.for_subjects(instructor.tenant, names)
        pre = {
            m.subject: tx.learner_pages.of(m.learner_id).pre_assessment
            for m in members
            if kind == "assessments"
        }
    rows = []
    for o in history:
        lesson = catalog.lessons.get(o.lesson_id)
        if lesson is None or (kind == "assessments" and lesson.kind != "assessment"):
            continue
        rows.append(
            [
                o.learner_id,
                names.get(o.learner_id, ""),
                o.lesson_id,
                lesson.title,
                lesson.kind,
                o.timestamp.isoformat(),
                "" if o.score is None else o.score,
                "" if o.success is None else str(o.success).lower(),
                "" if o.duration_seconds is None else o.duration_seconds,
                "lrs",
                o.statement_id or "",
            ]
        )
    for subject, taken in sorted(pre.items()) if kind == "assessments" else ():
        if taken and taken.get("status") == "done":
            for comp_id, score in sorted((taken.get("scores") or {}).items()):
                rows.append(
                    [
                        subject,
                        names.get(subject, ""),
                        comp_id,
                        "Pre-assessment",
                        "pre_assessment",
                        taken.get("at", ""),
                        score,
                        "",
                        "",
                        "pre_assessment",
                        "",
                    ]
                )
    header = [
        "sub",
        "name",
        "lesson_id",
        "lesson",
        "kind",
        "timestamp",
        "score",
        "success",
        "duration_seconds",
        "source",
        "statement_id",
    ]
    return _csv(header, rows)
