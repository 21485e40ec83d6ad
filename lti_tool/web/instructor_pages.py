"""The instructor's pages, as tabs: the class (mastery heatmap, who needs a person and why,
sortable and filterable), one learner's drill-down with the actions on their path (pin, skip,
assign, mark mastered, each with a note the learner sees; withdraw), lesson effectiveness and
time to proficiency, the equity report, and grade sync with the class list. Each view reads
the session, calls one use case, renders; the actions are htmx posts with the Bearer token."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from lti_tool.errors import InvalidBody
from lti_tool.storage import LaunchRecord
from lti_tool.usecases.class_view import (
    ClassQuery,
    class_view,
    grades_and_roster,
    learner_detail,
)
from lti_tool.usecases.course_reports import (
    GROUP_SOURCES,
    equity_report,
    lesson_effectiveness,
    save_groups,
)
from lti_tool.usecases.path_overrides import (
    OVERRIDE_KINDS,
    OverrideRequest,
    override_path,
    withdraw_overrides,
)
from lti_tool.web.auth import container, instructor_launch, session_token
from lti_tool.web.i18n import percent
from lti_tool.web.pages import heading_level, page_response

bp = Blueprint("instructor_pages", __name__)


def _context(launch: LaunchRecord, tab: str, **values: Any) -> dict[str, Any]:
    return {
        "launch": launch,
        "session_token": session_token() or "",
        "hl": heading_level(launch),
        "tab": tab,
        **values,
    }


def class_query() -> ClassQuery:
    args = request.args
    return ClassQuery(
        sort=args.get("sort", "attention") or "attention",
        descending=args.get("order") == "desc",
        show=args.get("show", "all") or "all",
        q=args.get("q", "")[:200],
    )


def heat_class(cell: Any) -> str:
    """The heatmap colour of one cell (darker is higher; mastered its own colour)."""
    if not cell or cell.get("status") == "not_started":
        return "heat-none"
    if cell.get("status") == "mastered":
        return "heat-m"
    return f"heat-{min(4, int(float(cell.get('p', 0.0)) * 5))}"


MARKS = {"mastered": " ✓", "review_due": " ↻"}


def heatmap_rows(view: Any, launch: LaunchRecord) -> list[dict[str, Any]]:
    """Each row's link and cells, the cells as ready HTML (every value escaped here): a
    class of hundreds of learners would otherwise cost thousands of template calls."""
    token = session_token() or ""
    link = url_for("instructor_pages.learner", launch_id=launch.id, subject="SUBJECT", t=token)
    not_started = escape(gettext("not started"))
    ids = [(comp["id"], escape(comp["id"])) for comp in view.competencies]
    rows = []
    for row in view.rows:
        cells = []
        for comp_id, comp_html in ids:
            cell = row.mastery.get(comp_id)
            css = heat_class(cell)
            if cell is None or css == "heat-none":
                cells.append(
                    f'<td class="heat heat-none" data-competency="{comp_html}" data-percent="">'
                    f'–<span class="visually-hidden"> {not_started}</span></td>'
                )
                continue
            p = float(cell.get("p", 0.0))
            mark = MARKS.get(str(cell.get("status")), "")
            cells.append(
                f'<td class="heat {css}" data-competency="{comp_html}" '
                f'data-percent="{round(p * 100)}">{escape(percent(p))}{mark}</td>'
            )
        rows.append(
            {
                "row": row,
                "link": link.replace("SUBJECT", quote(row.subject, safe="")),
                "cells": Markup("".join(cells)),  # every value above is escaped
            }
        )
    return rows


# Rows of the heatmap per page: a class of hundreds is read a page at a time.
PAGE_SIZE = 100
# Who needs a person first: the top of the list on the page, all of them one click away.
ATTENTION_SHOWN = 20


def class_page(launch: LaunchRecord) -> str:
    view = class_view(container(), launch, class_query())
    pages = max(1, -(-len(view.rows) // PAGE_SIZE))
    try:
        number = min(pages, max(1, int(request.args.get("page", "1"))))
    except ValueError:
        number = 1
    shown = replace(view, rows=view.rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    paging = {
        "page": number,
        "pages": pages,
        "first": (number - 1) * PAGE_SIZE + 1,
        "last": (number - 1) * PAGE_SIZE + len(shown.rows),
        "of": len(view.rows),
    }
    return render_template(
        "instructor.html",
        **_context(
            launch,
            "class",
            view=view,
            heatmap=heatmap_rows(shown, launch),
            paging=paging,
            attention_shown=ATTENTION_SHOWN,
            learner_link=url_for(
                "instructor_pages.learner",
                launch_id=launch.id,
                subject="SUBJECT",
                t=session_token() or "",
            ),
        ),
    )


def _detail(launch: LaunchRecord, subject: str, message: str = "") -> str:
    detail = learner_detail(container(), launch, subject)
    return render_template(
        "learner_detail.html",
        **_context(launch, "class", detail=detail, kinds=OVERRIDE_KINDS, message=message),
    )


@bp.get("/launch/<launch_id>/learners/<path:subject>")
def learner(launch_id: str, subject: str) -> Response:
    launch = instructor_launch(expected_id=launch_id)
    return page_response(_detail(launch, subject))


@bp.post("/launch/<launch_id>/learners/<path:subject>/overrides")
def add_override(launch_id: str, subject: str) -> Response:
    launch = instructor_launch(writing=True, expected_id=launch_id)
    form = request.form
    kind = form.get("kind", "")
    if kind not in OVERRIDE_KINDS:
        raise InvalidBody(f"kind: one of {', '.join(OVERRIDE_KINDS)}")
    target = form.get("lesson_id") if kind != "mark_mastered" else None
    competency = form.get("competency_id") if kind == "mark_mastered" else None
    if not (target or competency):
        raise InvalidBody("Choose a lesson (or, to mark mastered, a competency).")
    request_ = OverrideRequest(
        kind,
        lesson_id=target or None,
        competency_id=competency or None,
        note=form.get("note", "")[:2000],
        pathway_id=form.get("pathway_id") or None,
    )
    override_path(container(), launch, subject, request_)
    return page_response(_detail(launch, subject, message="saved"))


@bp.post("/launch/<launch_id>/learners/<path:subject>/overrides/withdraw")
def withdraw(launch_id: str, subject: str) -> Response:
    launch = instructor_launch(writing=True, expected_id=launch_id)
    form = request.form
    withdraw_overrides(
        container(),
        launch,
        subject,
        form.get("kind", ""),
        form.get("target", ""),
        form.get("note", "")[:2000],
        form.get("pathway_id") or None,
    )
    return page_response(_detail(launch, subject, message="withdrawn"))


@bp.get("/launch/<launch_id>/analytics")
def analytics(launch_id: str) -> Response:
    launch = instructor_launch(expected_id=launch_id)
    report = lesson_effectiveness(container(), launch)
    return page_response(
        render_template("analytics.html", **_context(launch, "analytics", report=report))
    )


@bp.get("/launch/<launch_id>/equity")
def equity(launch_id: str) -> Response:
    launch = instructor_launch(expected_id=launch_id)
    source = request.args.get("group_by", "csv")
    report = equity_report(container(), launch, source)
    return page_response(
        render_template(
            "equity.html",
            **_context(launch, "equity", report=report, sources=GROUP_SOURCES, saved=None),
        )
    )


@bp.post("/launch/<launch_id>/equity/groups")
def groups(launch_id: str) -> Response:
    launch = instructor_launch(writing=True, expected_id=launch_id)
    upload = request.files.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else ""
    text = text or request.form.get("csv", "")
    saved = save_groups(container(), launch, text)
    report = equity_report(container(), launch, "csv")
    return page_response(
        render_template(
            "equity.html",
            **_context(launch, "equity", report=report, sources=GROUP_SOURCES, saved=saved),
        )
    )


@bp.get("/launch/<launch_id>/grades")
def grades(launch_id: str) -> Response:
    launch = instructor_launch(expected_id=launch_id)
    found = grades_and_roster(container(), launch)
    return page_response(render_template("grades.html", **_context(launch, "grades", view=found)))


def chart_data(labels: list[str], series: dict[str, list[Any]]) -> str:
    """The JSON a chart is drawn from (the same numbers as the table beside it)."""
    return json.dumps({"labels": labels, "series": series})
