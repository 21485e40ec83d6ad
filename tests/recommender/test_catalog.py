"""Catalog loading and validation: JSON paths in errors, cycles, extras kept."""

from __future__ import annotations

import pytest

from recommender import CatalogError, UnknownIdError, load_catalog

from .conftest import BASICS, CHECK, SCENARIO, chain_document, example_document, lesson_doc


def errors_of(document: object) -> list[tuple[str, str]]:
    with pytest.raises(CatalogError) as info:
        load_catalog(document)  # type: ignore[arg-type]
    return info.value.errors


def test_the_format_page_example_loads() -> None:
    catalog = load_catalog(example_document())
    assert set(catalog.lessons) == {BASICS, SCENARIO, CHECK}
    assert catalog.competency("comm.escalation").mastery_threshold == 0.85
    assert catalog.competency("comm.escalation").parent == "comm.basics"
    assert catalog.lesson(SCENARIO).requires == ("comm.basics",)
    assert catalog.lesson(BASICS).kind == "lesson"
    assert catalog.lesson(CHECK).format == "text"
    pathway = catalog.pathway()
    assert pathway.thresholds.remediate_below == 0.6
    assert pathway.thresholds.skip_at_or_above == 0.9
    assert pathway.milestones[0].due_days == 14


def test_unknown_competency_is_reported_with_its_json_path() -> None:
    doc = chain_document()
    doc["lessons"][3]["competencies"][0]["id"] = "escalaton"
    assert ("lessons[3].competencies[0].id", 'unknown competency "escalaton"') in errors_of(doc)
    assert 'lessons[3].competencies[0].id: unknown competency "escalaton"' in str(
        CatalogError(errors_of(doc))
    )


def test_all_problems_are_reported_at_once() -> None:
    doc = example_document()
    doc["format"] = "skillpath-catalog/2"
    doc["competencies"][0]["mastery_threshold"] = 0
    doc["lessons"][1]["duration_minutes"] = -3
    doc["lessons"][2]["kind"] = "quiz"
    doc["pathways"][0]["goal"] = []
    paths = [p for p, _ in errors_of(doc)]
    assert paths == [
        "format",
        "competencies[0].mastery_threshold",
        "lessons[1].duration_minutes",
        "lessons[2].kind",
        "pathways[0].goal",
    ]


def test_required_fields_and_types() -> None:
    doc = example_document()
    del doc["lessons"][0]["title"]
    doc["competencies"][1]["id"] = "has space"
    doc["lessons"][1]["id"] = "not-an-iri"
    doc["pathways"][0]["milestones"][0]["due_days"] = 1.5
    paths = {p for p, _ in errors_of(doc)}
    assert {
        "lessons[0].title",
        "competencies[1].id",
        "lessons[1].id",
        "pathways[0].milestones[0].due_days",
    } <= paths


def test_a_requires_cycle_is_reported() -> None:
    doc = chain_document()
    doc["lessons"][0]["requires"] = ["c"]  # a needs c, c needs b, b needs a
    messages = [m for p, m in errors_of(doc) if p == "lessons"]
    assert messages and "cycle in requires" in messages[0]
    assert messages[0].startswith("cycle in requires: a -> c -> a")


def test_a_parent_cycle_is_reported() -> None:
    doc = chain_document()
    doc["competencies"][0]["parent"] = "b"
    doc["competencies"][1]["parent"] = "a"
    assert any(p == "competencies" and "cycle in parent" in m for p, m in errors_of(doc))


def test_unknown_references_everywhere() -> None:
    doc = chain_document()
    doc["lessons"][1]["alternatives"] = ["https://l.example.org/nope"]
    doc["pathways"][0]["next"] = ["nowhere"]
    doc["pathways"][0]["milestones"][0]["competencies"] = ["zz"]
    paths = {p for p, _ in errors_of(doc)}
    assert {
        "lessons[1].alternatives[0]",
        "pathways[0].next[0]",
        "pathways[0].milestones[0].competencies[0]",
    } <= paths


def test_extra_fields_are_kept() -> None:
    doc = example_document()
    doc["publisher"] = "ACME"
    doc["lessons"][0]["x-vendor"] = {"id": 7}
    doc["competencies"][0]["framework_ref"] = "esco:123"
    doc["pathways"][0]["badge"] = "gold"
    catalog = load_catalog(doc)
    assert catalog.extra == {"publisher": "ACME"}
    assert catalog.lesson(BASICS).extra == {"x-vendor": {"id": 7}}
    assert catalog.competency("comm.basics").extra == {"framework_ref": "esco:123"}
    assert catalog.pathway("support.onboarding").extra == {"badge": "gold"}


def test_not_an_object_and_duplicates() -> None:
    assert errors_of([]) == [("", "must be an object")]
    doc = example_document()
    doc["lessons"].append(dict(doc["lessons"][0]))
    assert any(p == "lessons[3].id" and "duplicate" in m for p, m in errors_of(doc))


def test_lookups_and_prerequisite_hops(chain: object) -> None:
    from recommender import Catalog

    assert isinstance(chain, Catalog)
    assert chain.prerequisites("c") == ("a", "b")  # bc-mixed teaches c and requires a
    assert chain.prerequisites_within("d", 3) == ["c", "a", "b"]
    assert chain.prerequisites_within("d", 1) == ["c"]
    assert chain.pathway_competencies(chain.pathway("p"))[:2] == ["a", "b"]
    with pytest.raises(UnknownIdError):
        chain.lesson("https://l.example.org/none")


def test_weight_out_of_range_names_its_path() -> None:
    doc = chain_document()
    doc["lessons"].append(lesson_doc("bad", [("a", 1.5)]))
    assert ("lessons[8].competencies[0].weight", "1.5 must be in (0, 1]") in errors_of(doc)
