"""A pathway's pre-assessment: a few questions on first arrival that set the starting point.

The catalog says it, as an extra field of a pathway (`skillpath-catalog/1` keeps extra fields):

    "pre_assessment": {
      "title": "Before you start", "intro": "Five questions, about three minutes.",
      "questions": [
        {"id": "q1", "competency": "comm.basics", "prompt": "...",
         "choices": ["...", "...", "..."], "answer": 1}
      ]
    }

Each competency's score is the share of its questions answered right; the engine's
`pre_assess` turns the scores into the learner's starting point. The right answers never
leave the server. `problems` checks the field at catalog import, naming JSON paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recommender import Pathway

FIELD = "pre_assessment"
MAX_QUESTIONS = 50
MAX_CHOICES = 8


@dataclass(frozen=True)
class Question:
    id: str
    competency: str
    prompt: str
    choices: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class PreAssessment:
    title: str
    intro: str
    questions: tuple[Question, ...]

    @property
    def competencies(self) -> list[str]:
        return sorted({q.competency for q in self.questions})

    def public(self, names: Mapping[str, str]) -> dict[str, Any]:
        """What the page shows: questions and choices, never the answers."""
        return {
            "title": self.title,
            "intro": self.intro,
            "questions": [
                {
                    "id": q.id,
                    "competency_id": q.competency,
                    "competency_name": names.get(q.competency, q.competency),
                    "prompt": q.prompt,
                    "choices": list(q.choices),
                }
                for q in self.questions
            ],
        }

    def scores(self, answers: Mapping[str, int]) -> dict[str, float]:
        """Each competency's share of questions answered right (unanswered counts wrong)."""
        right: dict[str, int] = {}
        total: dict[str, int] = {}
        for q in self.questions:
            total[q.competency] = total.get(q.competency, 0) + 1
            right[q.competency] = right.get(q.competency, 0) + (answers.get(q.id) == q.answer)
        return {c: round(right[c] / total[c], 4) for c in sorted(total)}


def problems(
    document: Mapping[str, Any], competencies: Sequence[str], where: str
) -> list[tuple[str, str]]:
    """What is wrong with a pathway document's pre-assessment, as (JSON path, message)."""
    raw = document.get(FIELD)
    if raw is None:
        return []
    path = f"{where}.{FIELD}"
    if not isinstance(raw, Mapping):
        return [(path, "must be an object")]
    found: list[tuple[str, str]] = []
    for name in ("title", "intro"):
        if name in raw and not isinstance(raw[name], str):
            found.append((f"{path}.{name}", "must be a string"))
    questions = raw.get("questions")
    if not isinstance(questions, list) or not questions:
        return found + [(f"{path}.questions", "must be a non-empty array")]
    if len(questions) > MAX_QUESTIONS:
        found.append((f"{path}.questions", f"at most {MAX_QUESTIONS} questions"))
    seen: set[str] = set()
    for i, q in enumerate(questions):
        qp = f"{path}.questions[{i}]"
        if not isinstance(q, Mapping):
            found.append((qp, "must be an object"))
            continue
        qid = q.get("id")
        if not isinstance(qid, str) or not qid:
            found.append((f"{qp}.id", "must be a non-empty string"))
        elif qid in seen:
            found.append((f"{qp}.id", f'duplicate question id "{qid}"'))
        else:
            seen.add(qid)
        if q.get("competency") not in competencies:
            found.append((f"{qp}.competency", f'unknown competency "{q.get("competency")}"'))
        if not isinstance(q.get("prompt"), str) or not q.get("prompt"):
            found.append((f"{qp}.prompt", "must be a non-empty string"))
        choices = q.get("choices")
        if (
            not isinstance(choices, list)
            or not 2 <= len(choices) <= MAX_CHOICES
            or not all(isinstance(c, str) and c for c in choices)
        ):
            found.append((f"{qp}.choices", f"must be 2 to {MAX_CHOICES} non-empty strings"))
            continue
        answer = q.get("answer")
        if isinstance(answer, bool) or not isinstance(answer, int):
            found.append((f"{qp}.answer", "must be the index of the right choice"))
        elif not 0 <= answer < len(choices):
            found.append((f"{qp}.answer", f"must be between 0 and {len(choices) - 1}"))
    return found


def pre_assessment_of(pathway: Pathway) -> PreAssessment | None:
    """The pathway's pre-assessment, or None (no field; a malformed one never imports)."""
    raw = pathway.extra.get(FIELD)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("questions"), list):
        return None
    questions = []
    for q in raw["questions"]:
        try:
            questions.append(
                Question(
                    str(q["id"]),
                    str(q["competency"]),
                    str(q["prompt"]),
                    tuple(str(c) for c in q["choices"]),
                    int(q["answer"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            return None
    if not questions:
        return None
    return PreAssessment(str(raw.get("title") or ""), str(raw.get("intro") or ""), tuple(questions))
