"""Deep Linking: the picker an instructor sees when the LMS asks for Skillpath content, and the
signed answer that adds the chosen pathways, milestones or lessons to the course.

Every item names its pathway in `custom` (`pathway`, and `milestone` or `lesson` when it is
one of those), so a launch through it opens that pathway; each carries a line item for the
learner's progress in the pathway (out of 100). A deep linking request is answered once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from lti_tool.errors import ConfigurationError, Forbidden, LaunchRejected, NoCatalog, NotFound
from lti_tool.lti.deep_linking import (
    ContentItem,
    DeepLinkingSettings,
    LineItemSpec,
    settings_of,
    signed_response,
)
from lti_tool.lti.vocabulary import DEEP_LINKING_REQUEST
from lti_tool.storage import LaunchRecord
from lti_tool.usecases.ports import Ports
from recommender import Catalog, Pathway

log = logging.getLogger("skillpath.deep_linking")

# How many items one answer may carry (a platform's form, not a catalog export).
MAX_ITEMS = 50
ANSWERED_SECONDS = 8 * 3600
# What a choice's value says: kind|pathway[|milestone or lesson id].
PATHWAY, MILESTONE, LESSON = "pathway", "milestone", "lesson"
LINE_ITEM_TAGS = {
    PATHWAY: "skillpath-pathway",
    MILESTONE: "skillpath-milestone",
    LESSON: "skillpath-lesson",
}


@dataclass(frozen=True)
class Choice:
    value: str
    title: str
    text: str


@dataclass(frozen=True)
class PathwayChoices:
    pathway: Choice
    milestones: tuple[Choice, ...]
    lessons: tuple[Choice, ...]


@dataclass(frozen=True)
class Picker:
    settings: DeepLinkingSettings
    pathways: tuple[PathwayChoices, ...]


@dataclass(frozen=True)
class DeepLinkingAnswer:
    return_url: str
    jwt: str
    items: tuple[ContentItem, ...]


def _require_request(launch: LaunchRecord) -> DeepLinkingSettings:
    if launch.message_type != DEEP_LINKING_REQUEST:
        raise NotFound("This launch did not ask for content to add.")
    settings = settings_of(launch.claims)
    if not settings.accepts_links:
        raise LaunchRejected(
            "The LMS does not accept LTI resource links here, the only content Skillpath adds.",
            code="links_not_accepted",
        )
    return settings


def _pathway_text(catalog: Catalog, pathway: Pathway) -> str:
    goals = ", ".join(
        catalog.competencies[g.competency].name
        for g in pathway.goal
        if g.competency in catalog.competencies
    )
    parts = [f"Goal: {goals}." if goals else ""]
    if pathway.milestones:
        parts.append(f"{len(pathway.milestones)} milestone(s).")
    return " ".join(p for p in parts if p) or pathway.title


def _choices(catalog: Catalog, pathway: Pathway) -> PathwayChoices:
    milestones = tuple(
        Choice(
            f"{MILESTONE}|{pathway.id}|{m.id}",
            m.title,
            f"Milestone of {pathway.title}"
            + (
                f", due {m.due_days} day(s) after the first launch"
                if m.due_days is not None
                else ""
            )
            + ".",
        )
        for m in pathway.milestones
    )
    competencies = set(catalog.pathway_competencies(pathway))
    lessons = tuple(
        Choice(
            f"{LESSON}|{pathway.id}|{lesson.id}",
            lesson.title,
            f"{lesson.kind.capitalize()}, {lesson.duration_minutes:g} min, in {pathway.title}.",
        )
        for lesson in catalog.lessons.values()
        if any(c.id in competencies for c in lesson.competencies)
    )
    return PathwayChoices(
        Choice(f"{PATHWAY}|{pathway.id}", pathway.title, _pathway_text(catalog, pathway)),
        milestones,
        lessons,
    )


def _catalog(ports: Ports, launch: LaunchRecord) -> Catalog:
    with ports.storage.transaction() as tx:
        catalog = tx.catalogs.for_tenant(launch.tenant)
    if catalog is None or not catalog.pathways:
        raise NoCatalog(
            "This LMS registration has no Skillpath catalog with a pathway yet, so there is "
            "nothing to add. A Skillpath admin imports one in the admin console (Catalog) or "
            "with `skillpath catalog import FILE`."
        )
    return catalog


def picker(ports: Ports, launch: LaunchRecord) -> Picker:
    """What the instructor may add: each pathway of the tenant's catalog, its milestones and
    the lessons about its competencies. `NoCatalog` when there is nothing to pick."""
    settings = _require_request(launch)
    catalog = _catalog(ports, launch)
    return Picker(
        settings,
        tuple(
            _choices(catalog, p) for p in sorted(catalog.pathways.values(), key=lambda p: p.title)
        ),
    )


def _item(ports: Ports, catalog: Catalog, value: str) -> ContentItem:
    kind, _, rest = value.partition("|")
    pathway_id, _, target = rest.partition("|")
    pathway = catalog.pathways.get(pathway_id)
    if pathway is None or kind not in LINE_ITEM_TAGS or (kind == PATHWAY) != (target == ""):
        raise ConfigurationError(f"{value!r} is not something this catalog offers")
    choices = _choices(catalog, pathway)
    if kind == PATHWAY:
        choice, custom, resource = choices.pathway, {"pathway": pathway.id}, pathway.id
    else:
        pool = choices.milestones if kind == MILESTONE else choices.lessons
        found = next((c for c in pool if c.value == value), None)
        if found is None:
            raise ConfigurationError(f"{value!r} is not something this catalog offers")
        choice, custom = found, {"pathway": pathway.id, kind: target}
        resource = f"{pathway.id}#{target}" if kind == MILESTONE else target
    return ContentItem(
        title=choice.title,
        text=choice.text,
        url=ports.settings.url_for_path("/lti/launch"),
        custom=custom,
        line_item=LineItemSpec(label=choice.title, resource_id=resource, tag=LINE_ITEM_TAGS[kind]),
    )


def answer(ports: Ports, launch: LaunchRecord, chosen: Sequence[str]) -> DeepLinkingAnswer:
    """Sign the answer carrying the chosen items, once per deep linking request. Refused
    when the launch's deployment is no longer registered, when nothing or too much is
    chosen, or when the platform takes one item and several were chosen."""
    settings = _require_request(launch)
    with ports.storage.transaction() as tx:
        known = tx.registrations.has_deployment(launch.tenant, launch.deployment_id)
    if not known:
        raise Forbidden(
            f"The deployment {launch.deployment_id!r} is not registered with Skillpath (any "
            "more), so no content can be returned to it.",
            code="unknown_deployment",
        )
    values = list(dict.fromkeys(v for v in chosen if v))
    if not values:
        raise ConfigurationError("Choose at least one pathway, milestone or lesson.")
    if len(values) > 1 and not settings.accept_multiple:
        raise ConfigurationError("The LMS takes one item here: choose one.")
    if len(values) > MAX_ITEMS:
        raise ConfigurationError(f"Choose at most {MAX_ITEMS} items at once.")
    catalog = _catalog(ports, launch)
    items = tuple(_item(ports, catalog, value) for value in values)
    if not ports.store.add(f"deep-linking-answered:{launch.id}", True, ANSWERED_SECONDS):
        raise ConfigurationError(
            "This request for content was already answered: start again from the LMS.",
            code="already_answered",
        )
    jwt = signed_response(
        ports.signing_key(),
        issuer=launch.issuer,
        client_id=launch.client_id,
        deployment_id=launch.deployment_id,
        settings=settings,
        items=items,
    )
    log.info(
        "deep linking answer: issuer=%s client_id=%s deployment=%s items=%d",
        launch.issuer,
        launch.client_id,
        launch.deployment_id,
        len(items),
    )
    return DeepLinkingAnswer(settings.return_url, jwt, items)
