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


# ---- competency prerequisites, what a lesson teaches and measures, real cycles only ----


def _doc(comps: list[dict[str, object]], lessons: list[dict[str, object]]) -> dict[str, object]:
    return {"format": "skillpath-catalog/1", "competencies": comps, "lessons": lessons}


def _comps(*ids: str, **prerequisites: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for cid in ids:
        doc: dict[str, object] = {"id": cid, "name": cid.upper()}
        if cid in prerequisites:
            doc["prerequisites"] = prerequisites[cid]
        out.append(doc)
    return out


def test_a_lessons_requires_do_not_make_its_minor_competencies_depend_on_them() -> None:
    # The obvious version-1 encoding of "c needs b, b needs a": each lesson requires the
    # prerequisites of the competency it is about. The lesson about c also reviews a (a minor
    # part), and the lesson about b reviews c: neither minor part inherits the requirement.
    doc = _doc(
        _comps("a", "b", "c"),
        [
            lesson_doc("a1", [("a", 1)]),
            lesson_doc("b1", [("b", 1), ("a", 0.4)], requires=["a"]),
            lesson_doc("c1", [("c", 1), ("a", 0.5)], requires=["b"]),
            lesson_doc("b2", [("b", 1), ("c", 0.3)], requires=["a"]),
        ],
    )
    catalog = load_catalog(doc)  # was rejected: "cycle in requires: a -> b -> a"
    assert catalog.prerequisites("a") == ()
    assert catalog.prerequisites("b") == ("a",)
    assert catalog.prerequisites("c") == ("b",)


def test_a_lesson_requiring_its_own_minor_competency_is_not_a_cycle() -> None:
    # A lesson about b that also practises a, and requires a: was "cycle in requires: a -> a".
    doc = _doc(
        _comps("a", "b"),
        [lesson_doc("a1", [("a", 1)]), lesson_doc("b1", [("b", 1), ("a", 0.5)], requires=["a"])],
    )
    assert load_catalog(doc).prerequisites("b") == ("a",)


def test_competencies_can_declare_their_prerequisites() -> None:
    doc = _doc(
        _comps("a", "b", "c", b=["a"], c=["b", "a"]),
        [
            lesson_doc("a1", [("a", 1)]),
            lesson_doc("b1", [("b", 1)]),
            # An advanced lesson on b that uses c: a gate on this lesson, not a prerequisite.
            lesson_doc("b-advanced", [("b", 1)], requires=["c"]),
            lesson_doc("c1", [("c", 1)]),
        ],
    )
    catalog = load_catalog(doc)
    assert catalog.declares_prerequisites
    assert catalog.competency("c").prerequisites == ("b", "a")
    assert catalog.prerequisites("c") == ("a", "b")
    assert catalog.prerequisites("b") == ("a",)  # b-advanced's requires stay on that lesson
    assert catalog.lesson("https://l.example.org/b-advanced").requires == ("c",)
    assert catalog.prerequisites_within("c", 3) == ["a", "b"]


def test_a_cycle_in_declared_prerequisites_is_reported() -> None:
    doc = _doc(_comps("a", "b", "c", a=["c"], b=["a"], c=["b"]), [lesson_doc("a1", [("a", 1)])])
    assert errors_of(doc) == [("competencies", "cycle in prerequisites: a -> c -> b -> a")]


def test_bad_prerequisites_name_their_path() -> None:
    doc = _doc(_comps("a", "b", a=["a"], b=["zz", 3]), [lesson_doc("a1", [("a", 1)])])
    assert set(errors_of(doc)) == {
        ("competencies[0].prerequisites[0]", "a competency cannot be its own prerequisite"),
        ("competencies[1].prerequisites[0]", 'unknown competency "zz"'),
        ("competencies[1].prerequisites[1]", "must be a competency id"),
    }


def test_lesson_gates_that_lock_each_other_out_are_a_real_cycle() -> None:
    # Every lesson that teaches b requires c and every lesson that teaches c requires b: no
    # learner can ever take one.
    lessons = [
        lesson_doc("b1", [("b", 1)], requires=["c"]),
        lesson_doc("c1", [("c", 1)], requires=["b"]),
    ]
    doc = _doc(_comps("a", "b", "c", c=["a"]), lessons)
    assert errors_of(doc) == [("lessons", "cycle in requires: b -> c -> b")]
    # One open way in (a lesson on b without the gate) and it is no cycle.
    doc["lessons"].append(lesson_doc("b0", [("b", 1)]))  # type: ignore[attr-defined]
    assert load_catalog(doc).prerequisites("c") == ("a",)


def test_what_a_lesson_teaches_and_what_its_score_measures() -> None:
    doc = _doc(
        _comps("a", "b", "c"),
        [
            {
                **lesson_doc("mixed", []),
                "competencies": [
                    {"id": "a", "teaches": 1, "measures": 1},
                    {"id": "b", "teaches": 0.5},  # taught as a minor part, not measured
                    {"id": "c", "weight": 0.6, "measures": 0.2},
                ],
            },
            lesson_doc("check", [("a", 1)], kind="assessment"),
        ],
    )
    catalog = load_catalog(doc)
    a, b, c = catalog.lesson("https://l.example.org/mixed").competencies
    assert (a.weight, a.teaches, a.measures) == (1.0, 1.0, 1.0)
    assert (b.weight, b.teaches, b.measures) == (0.5, 0.5, 0.0)
    assert (c.weight, c.teaches, c.measures) == (0.6, 0.6, 0.2)
    (part,) = catalog.lesson("https://l.example.org/check").competencies
    assert (part.weight, part.teaches, part.measures) == (
        1.0,
        0.0,
        1.0,
    )  # assessments teach nothing


def test_teaches_and_measures_are_validated() -> None:
    doc = _doc(
        _comps("a"),
        [
            {**lesson_doc("x", []), "competencies": [{"id": "a", "teaches": 0, "measures": 0}]},
            {**lesson_doc("y", []), "competencies": [{"id": "a", "measures": 1.5}]},
            {
                **lesson_doc("z", [], kind="assessment"),
                "competencies": [{"id": "a", "teaches": 0.5, "measures": 1}],
            },
            {**lesson_doc("w", []), "competencies": [{"id": "a"}]},
        ],
    )
    assert set(errors_of(doc)) == {
        (
            "lessons[0].competencies[0]",
            "must teach or measure the competency (teaches or measures above 0)",
        ),
        ("lessons[1].competencies[0].measures", "1.5 must be in [0, 1]"),
        (
            "lessons[2].competencies[0].teaches",
            "an assessment teaches nothing (make it a practice)",
        ),
        ("lessons[3].competencies[0].weight", "is required"),
    }


def test_version_one_catalogs_load_as_before() -> None:
    catalog = load_catalog(chain_document())
    mixed = catalog.lesson("https://l.example.org/bc-mixed")
    assert [(p.id, p.weight, p.teaches, p.measures) for p in mixed.competencies] == [
        ("b", 0.5, 0.5, 0.5),
        ("c", 0.5, 0.5, 0.5),
    ]
    check = catalog.lesson("https://l.example.org/d-check").competencies[0]
    assert (check.teaches, check.measures) == (0.0, 1.0)
    assert not catalog.declares_prerequisites
    assert [catalog.prerequisites(c) for c in "abcd"] == [(), ("a",), ("a", "b"), ("c",)]


def test_the_example_of_the_format_document_loads() -> None:
    import json
    import pathlib

    page = pathlib.Path(__file__).parents[2] / "docs" / "catalog-format.md"
    text = page.read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    catalog = load_catalog(json.loads(block))
    assert catalog.prerequisites("comm.escalation") == ("comm.basics",)
    scenario = catalog.lesson("https://lessons.example.org/comm/escalation-scenario")
    assert [(p.id, p.teaches, p.measures) for p in scenario.competencies] == [
        ("comm.escalation", 1.0, 1.0),
        ("comm.basics", 0.4, 0.0),
    ]


def test_lesson_ids_follow_the_one_iri_rule_statements_follow() -> None:
    """`http:foo` is not an absolute IRI for the catalog any more than for a statement."""
    import json
    from pathlib import Path

    from recommender import CatalogError, load_catalog
    from recommender.iri import is_absolute_iri
    from xapi.validation import is_absolute_iri as statement_rule

    assert statement_rule is is_absolute_iri
    for value, ok in (
        ("https://lessons.example.org/a", True),
        ("urn:uuid:6b5f2c7e-3c1a-4e1b-9f0a-2d1c3b4a5e6f", True),
        ("http:foo", False),
        ("https:///no-host", False),
        ("lesson-1", False),
        ("https://x.example/a b", False),
    ):
        assert is_absolute_iri(value) is ok, value
    document = json.loads(
        (Path(__file__).parents[1] / "fixtures" / "catalog-example.json").read_text()
    )
    document["lessons"][0]["id"] = "http:foo"
    with pytest.raises(CatalogError) as raised:
        load_catalog(document)
    assert any(path == "lessons[0].id" for path, _ in raised.value.errors)
