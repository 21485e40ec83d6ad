"""Skillpath's xAPI profile follows the xAPI Profiles 1.0 structure rules, and describes every
verb, activity type and extension the statement builders use.

The rules checked (xAPI Profiles spec, part two): the profile's required properties and types;
every id an absolute IRI and unique; versions with ids distinct from the profile id and a
generatedAtTime; every concept, template and pattern `inScheme` one of the versions; concept
types from the spec's list, with the properties each type allows; templates' verbs and activity
types defined here or in the ADL vocabulary; rules with a JSONPath location and a valid
presence; patterns with exactly one of the composition properties, naming known ids.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.xapi.test_statements import BUILDERS, context
from xapi.profile import profile_bytes, profile_document
from xapi.timestamps import parse_timestamp
from xapi.validation import is_absolute_iri
from xapi.vocabulary import PROFILE_CATEGORY_TYPE, PROFILE_ID, PROFILE_VERSION_ID

ADL_VOCABULARY = {
    "http://adlnet.gov/expapi/verbs/launched",
    "http://adlnet.gov/expapi/verbs/scored",
    "https://w3id.org/xapi/adl/verbs/satisfied",
    "http://adlnet.gov/expapi/activities/lesson",
    "http://adlnet.gov/expapi/activities/objective",
    "http://adlnet.gov/expapi/activities/course",
    "http://adlnet.gov/expapi/activities/link",
    PROFILE_CATEGORY_TYPE,
}
CONCEPT_TYPES = {
    "Verb",
    "ActivityType",
    "AttachmentUsageType",
    "ContextExtension",
    "ResultExtension",
    "ActivityExtension",
    "StateResource",
    "AgentProfileResource",
    "ActivityProfileResource",
    "Activity",
}
TEMPLATE_TYPE_KEYS = (
    "objectActivityType",
    "contextGroupingActivityType",
    "contextParentActivityType",
    "contextOtherActivityType",
    "contextCategoryActivityType",
)
PATTERN_KINDS = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")


def is_language_map(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items())
    )


def profile_problems(profile: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in (
        "@context",
        "id",
        "type",
        "conformsTo",
        "prefLabel",
        "definition",
        "versions",
        "author",
    ):
        if key not in profile:
            problems.append(f"missing {key}")
    if profile.get("@context") != "https://w3id.org/xapi/profiles/context":
        problems.append("@context must be the profiles context")
    if profile.get("type") != "Profile":
        problems.append("type must be Profile")
    for key in ("id", "conformsTo"):
        if not is_absolute_iri(profile.get(key)):
            problems.append(f"{key} is not an absolute IRI")
    for key in ("prefLabel", "definition"):
        if not is_language_map(profile.get(key)):
            problems.append(f"{key} is not a language map")
    author = profile.get("author", {})
    if author.get("type") not in ("Organization", "Person") or not author.get("name"):
        problems.append("author needs type Organization/Person and a name")
    versions = profile.get("versions", [])
    version_ids = {v.get("id") for v in versions}
    if not versions:
        problems.append("versions is empty")
    for version in versions:
        if not is_absolute_iri(version.get("id")) or version.get("id") == profile.get("id"):
            problems.append(f"version id {version.get('id')!r} invalid or equal to the profile id")
        try:
            parse_timestamp(version.get("generatedAtTime"))
        except ValueError:
            problems.append(f"version {version.get('id')} has no valid generatedAtTime")
    seen: set[str] = set()
    defined: set[str] = set()
    everything = (
        profile.get("concepts", []) + profile.get("templates", []) + profile.get("patterns", [])
    )
    for item in everything:
        iri = item.get("id")
        if not is_absolute_iri(iri):
            problems.append(f"id {iri!r} is not an absolute IRI")
        if iri in seen:
            problems.append(f"id {iri} is used twice")
        seen.add(iri)
        if item.get("inScheme") not in version_ids:
            problems.append(f"{iri}: inScheme is not a version of this profile")
        for key in ("prefLabel", "definition"):
            if not is_language_map(item.get(key)):
                problems.append(f"{iri}: {key} is not a language map")
    for concept in profile.get("concepts", []):
        iri, kind = concept.get("id"), concept.get("type")
        defined.add(iri)
        if kind not in CONCEPT_TYPES:
            problems.append(f"{iri}: unknown concept type {kind!r}")
        if kind and kind.endswith("Extension"):
            if "schema" in concept and "inlineSchema" in concept:
                problems.append(f"{iri}: schema and inlineSchema together")
            if kind == "ActivityExtension" and "recommendedVerbs" in concept:
                problems.append(f"{iri}: activity extensions have no recommendedVerbs")
            if kind != "ActivityExtension" and "recommendedActivityTypes" in concept:
                problems.append(f"{iri}: only activity extensions have recommendedActivityTypes")
            for verb in concept.get("recommendedVerbs", []):
                if not is_absolute_iri(verb):
                    problems.append(f"{iri}: recommended verb {verb!r} is not an IRI")
    known = defined | ADL_VOCABULARY
    template_ids = set()
    for template in profile.get("templates", []):
        iri = template.get("id")
        template_ids.add(iri)
        if template.get("type") != "StatementTemplate":
            problems.append(f"{iri}: type must be StatementTemplate")
        if template.get("verb") not in known:
            problems.append(f"{iri}: verb {template.get('verb')!r} is not defined")
        for key in TEMPLATE_TYPE_KEYS:
            values = template.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                if value not in known:
                    problems.append(f"{iri}: {key} {value!r} is not defined")
        if "objectActivityType" in template and "objectStatementRefTemplate" in template:
            problems.append(f"{iri}: objectActivityType with objectStatementRefTemplate")
        for rule in template.get("rules", []):
            location = rule.get("location", "")
            if not location.startswith("$"):
                problems.append(f"{iri}: rule location {location!r} is not a JSONPath")
            if rule.get("presence") not in (None, "included", "excluded", "recommended"):
                problems.append(f"{iri}: rule presence {rule.get('presence')!r}")
            if not any(k in rule for k in ("presence", "any", "all", "none")):
                problems.append(f"{iri}: a rule needs presence, any, all or none")
    pattern_ids = {p.get("id") for p in profile.get("patterns", [])}
    for pattern in profile.get("patterns", []):
        iri = pattern.get("id")
        kinds = [k for k in PATTERN_KINDS if k in pattern]
        if pattern.get("type") != "Pattern" or len(kinds) != 1:
            problems.append(f"{iri}: a Pattern has exactly one of {PATTERN_KINDS}")
            continue
        members = pattern[kinds[0]]
        for member in [members] if isinstance(members, str) else members:
            if member not in template_ids | pattern_ids:
                problems.append(f"{iri}: names unknown {member!r}")
    return problems


def test_profile_follows_the_profiles_spec() -> None:
    assert profile_problems(profile_document()) == []


def test_the_checker_catches_a_broken_profile() -> None:
    broken = profile_document()
    broken["versions"][0]["id"] = broken["id"]
    broken["templates"][0]["verb"] = "http://example.org/verbs/unknown"
    broken["concepts"][0]["inScheme"] = "urn:nowhere"
    del broken["author"]
    problems = profile_problems(broken)
    assert any("version id" in p for p in problems)
    assert any("is not defined" in p for p in problems)
    assert any("inScheme" in p for p in problems)
    assert "missing author" in problems


def test_profile_names_the_ids_the_code_uses() -> None:
    profile = profile_document()
    assert profile["id"] == PROFILE_ID
    assert PROFILE_VERSION_ID in {v["id"] for v in profile["versions"]}
    assert profile_bytes().startswith(b"{")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_built_statement_uses_only_profile_terms(name: str) -> None:
    profile = profile_document()
    known = {c["id"] for c in profile["concepts"]} | ADL_VOCABULARY
    statement = BUILDERS[name](context())
    template_verbs = {t["verb"] for t in profile["templates"]}
    assert statement["verb"]["id"] in template_verbs
    assert statement["object"]["definition"]["type"] in known
    for kind in ("result", "context"):
        for key in statement.get(kind, {}).get("extensions", {}):
            assert key in known, key
