"""Shared fixtures: the catalog example from the format page, plus a richer catalog."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recommender.catalog import Catalog
from recommender.catalog_loader import load_catalog
from recommender.params import CompetencyParams, ModelParams

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASICS = "https://lessons.example.org/comm/basics-video"
SCENARIO = "https://lessons.example.org/comm/escalation-scenario"
CHECK = "https://lessons.example.org/comm/escalation-check"

EXAMPLE: dict[str, Any] = {
    "format": "skillpath-catalog/1",
    "competencies": [
        {"id": "comm.basics", "name": "Customer communication basics"},
        {
            "id": "comm.escalation",
            "name": "Escalation writing",
            "parent": "comm.basics",
            "mastery_threshold": 0.85,
        },
    ],
    "lessons": [
        {
            "id": BASICS,
            "title": "Tone and clarity",
            "format": "video",
            "duration_minutes": 5,
            "difficulty": 0.2,
            "competencies": [{"id": "comm.basics", "weight": 1}],
        },
        {
            "id": SCENARIO,
            "title": "Clarify next steps after a delay",
            "kind": "practice",
            "format": "scenario",
            "duration_minutes": 7,
            "difficulty": 0.5,
            "competencies": [{"id": "comm.escalation", "weight": 1}],
            "requires": ["comm.basics"],
        },
        {
            "id": CHECK,
            "title": "Escalation check",
            "kind": "assessment",
            "duration_minutes": 4,
            "difficulty": 0.6,
            "competencies": [{"id": "comm.escalation", "weight": 1}],
        },
    ],
    "pathways": [
        {
            "id": "support.onboarding",
            "title": "Support associate, first two weeks",
            "role": "support-associate",
            "goal": [{"competency": "comm.escalation", "level": 0.85}],
            "milestones": [
                {
                    "id": "m1",
                    "title": "Writes clear escalations",
                    "competencies": ["comm.escalation"],
                    "due_days": 14,
                }
            ],
        },
    ],
}


def example_document() -> dict[str, Any]:
    """A fresh deep copy of the format page's example."""
    return copy.deepcopy(EXAMPLE)


# Parameters of the small hand-made catalogs: a low prior, slow learning, some guessing.
PARAMS = ModelParams(default=CompetencyParams(prior=0.2, learn=0.1, guess=0.2, slip=0.1))


def url(name: str) -> str:
    """The id `lesson_doc` gives a lesson named `name`."""
    return f"https://l.example.org/{name}"


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def lesson_doc(lesson_id: str, comps: list[tuple[str, float]], **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": url(lesson_id),
        "title": lesson_id,
        "duration_minutes": fields.pop("duration_minutes", 5),
        "competencies": [{"id": c, "weight": w} for c, w in comps],
    }
    doc.update(fields)
    return doc


def chain_document() -> dict[str, Any]:
    """a -> b -> c -> d prerequisite chain, with alternatives, an easier lesson and a critical d."""
    return {
        "format": "skillpath-catalog/1",
        "competencies": [
            {"id": "a", "name": "A"},
            {"id": "b", "name": "B"},
            {"id": "c", "name": "C"},
            {"id": "d", "name": "D", "critical": True},
        ],
        "lessons": [
            lesson_doc("a1", [("a", 1)], difficulty=0.3),
            lesson_doc(
                "b1",
                [("b", 1)],
                requires=["a"],
                difficulty=0.6,
                alternatives=["https://l.example.org/b1-video"],
            ),
            lesson_doc("b1-video", [("b", 1)], requires=["a"], difficulty=0.6, format="video"),
            lesson_doc("b-easy", [("b", 1)], requires=["a"], difficulty=0.2, duration_minutes=9),
            lesson_doc("c1", [("c", 1)], requires=["b"]),
            lesson_doc("d1", [("d", 1)], requires=["c"], kind="practice"),
            lesson_doc("d-check", [("d", 1)], requires=["c"], kind="assessment"),
            lesson_doc(
                "bc-mixed",
                [("b", 0.5), ("c", 0.5)],
                requires=["a"],
                kind="practice",
                duration_minutes=12,
            ),
        ],
        "pathways": [
            {
                "id": "p",
                "title": "P",
                "goal": [{"competency": "d", "level": 0.8}],
                "milestones": [
                    {"id": "m1", "title": "B", "competencies": ["b"], "due_days": 7},
                    {"id": "m2", "title": "D", "competencies": ["d"], "due_days": 21},
                ],
            },
        ],
    }


@pytest.fixture
def example() -> Catalog:
    return load_catalog(example_document())


@pytest.fixture
def chain() -> Catalog:
    return load_catalog(chain_document())
