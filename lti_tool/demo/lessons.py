"""The demo's lessons: a short page per lesson of the sample catalog, with one question, that
reports the learner's answer to an LRS as an xAPI statement, as real content does.

Skillpath opens a lesson whose catalog entry says `"xapi_launch": true` with the learner's
xAPI `actor`, the `activity_id` and a `registration` in the query; the lesson names the
learner with that actor, so Skillpath reads the statement back as the learner's evidence.
`send` stores a statement (the demo LRS in `skillpath demo`; a real LRS in the tests). A
teaching aid: it trusts the actor it is given, as a demo may.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request

VERBS = "http://adlnet.gov/expapi/verbs/"


@dataclass(frozen=True)
class DemoLesson:
    slug: str
    lesson_id: str
    title: str
    text: str
    question: str
    choices: tuple[str, ...]
    answer: int


BASE = "https://lessons.example.org/"
LESSONS = {
    lesson.slug: lesson
    for lesson in (
        DemoLesson(
            "basics-video",
            BASE + "comm/basics-video",
            "Tone and clarity",
            "Short sentences, plain words, one request per message. Say what happens next.",
            "A customer asks where their order is. Which reply is clearest?",
            (
                "We are looking into various logistics factors.",
                "Your order left our warehouse today; you will have it by Friday.",
                "Please be patient.",
            ),
            1,
        ),
        DemoLesson(
            "basics-text",
            BASE + "comm/basics-text",
            "Tone and clarity (reading)",
            "Clear messages name the problem, the next step and when it happens.",
            "What makes a support message clear?",
            ("Long explanations", "The next step and when it happens", "Many apologies"),
            1,
        ),
        DemoLesson(
            "empathy-practice",
            BASE + "comm/empathy-practice",
            "Acknowledge, then act",
            "First name the customer's feeling, then say what you will do about it.",
            "Which reply acknowledges, then acts?",
            (
                "I understand how frustrating a late delivery is; I have asked the courier "
                "for a new date and will write to you by 3 pm.",
                "Deliveries are sometimes late.",
                "Please read our delivery policy.",
            ),
            0,
        ),
        DemoLesson(
            "ticket-triage",
            BASE + "tools/ticket-triage",
            "Triage a ticket queue",
            "Urgent and blocking first, then oldest first. Tag every ticket as you go.",
            "Which ticket do you take first?",
            (
                "A feature idea from yesterday",
                "A customer who cannot log in at all",
                "A typo report from last week",
            ),
            1,
        ),
        DemoLesson(
            "escalation-scenario",
            BASE + "comm/escalation-scenario",
            "Clarify next steps after a delay",
            "When you escalate, say who now owns the issue and when the customer hears back.",
            "What must an escalation message say?",
            ("Who owns it now and when they reply", "That it is not your fault", "Nothing"),
            0,
        ),
        DemoLesson(
            "escalation-check",
            BASE + "comm/escalation-check",
            "Escalation check",
            "A quick check of escalation writing.",
            "An escalation to the billing team should include…",
            ("only the customer's name", "the account, the problem, what you tried", "an emoji"),
            1,
        ),
        DemoLesson(
            "refunds-video",
            BASE + "policy/refunds-video",
            "When we refund, and when we don't",
            "Refunds within 30 days of delivery for unused items; damaged items always.",
            "A customer returns an unused item after 12 days. Do we refund?",
            ("Yes", "No", "Only as store credit"),
            0,
        ),
        DemoLesson(
            "refunds-check",
            BASE + "policy/refunds-check",
            "Refund policy check",
            "A quick check of the refund policy.",
            "An item arrived damaged 45 days ago. Do we refund?",
            ("No, it is past 30 days", "Yes, damaged items are always refunded", "Only half"),
            1,
        ),
    )
}


def lesson_url(base_url: str, lesson_id: str) -> str | None:
    """Where the demo serves a catalog lesson, or None for a lesson it does not have."""
    for lesson in LESSONS.values():
        if lesson.lesson_id == lesson_id:
            return f"{base_url.rstrip('/')}/lessons/{lesson.slug}"
    return None


def answered(
    lesson: DemoLesson, actor: Mapping[str, Any], choice: int, registration: str | None
) -> dict[str, Any]:
    """The xAPI statement of one answer: passed or failed, scaled score 1 or 0."""
    right = choice == lesson.answer
    verb = "passed" if right else "failed"
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": dict(actor),
        "verb": {"id": VERBS + verb, "display": {"en-US": verb}},
        "object": {
            "objectType": "Activity",
            "id": lesson.lesson_id,
            "definition": {"name": {"en-US": lesson.title}},
        },
        "result": {"success": right, "score": {"scaled": 1.0 if right else 0.0}},
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    if registration:
        try:
            statement["context"] = {"registration": str(uuid.UUID(registration))}
        except ValueError:
            pass
    return statement


def lessons_blueprint(send: Callable[[dict[str, Any]], object]) -> Blueprint:
    bp = Blueprint("demo_lessons", __name__, template_folder="templates")

    def actor_of(raw: str) -> dict[str, Any]:
        try:
            actor = json.loads(raw)
        except ValueError:
            abort(400, "the lesson needs the learner's actor (open it from Skillpath)")
        if not isinstance(actor, dict) or not ({"account", "mbox"} & set(actor)):
            abort(400, "the lesson needs the learner's actor (open it from Skillpath)")
        return actor

    @bp.get("/lessons/<slug>")
    def show(slug: str) -> str:
        lesson = LESSONS.get(slug) or abort(404)
        return render_template(
            "lesson.html",
            lesson=lesson,
            actor=request.args.get("actor", ""),
            registration=request.args.get("registration", ""),
            result=None,
        )

    @bp.post("/lessons/<slug>")
    def answer(slug: str) -> str:
        lesson = LESSONS.get(slug) or abort(404)
        actor = actor_of(request.form.get("actor", ""))
        try:
            choice = int(request.form.get("choice", "-1"))
        except ValueError:
            choice = -1
        statement = answered(lesson, actor, choice, request.form.get("registration"))
        send(statement)
        return render_template(
            "lesson.html",
            lesson=lesson,
            actor="",
            registration="",
            result=choice == lesson.answer,
        )

    return bp
