"""Building the statements Skillpath sends, with `tincan`'s typed statement model.

One builder per statement of Skillpath's profile: recommended (reasons as a result extension),
launched, milestone reached, competency result (mastery estimate as `result.score.scaled`),
override applied, flagged for a coach. Every statement carries the same context: the LTI context
(grouping) and resource link (parent), a registration UUID per (learner, pathway), and the
category activity naming this version of Skillpath's profile. Each builder returns a plain JSON
dict with a client-made id and timestamp that already passed `validate_statement`, ready for the
outbox and `LrsClient.put_statement`.

tincan is used for the model only (never its `RemoteLRS`). Must not import flask or sqlalchemy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tincan import (  # type: ignore[import-untyped]
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    LanguageMap,
    Result,
    Score,
    Statement,
    Verb,
)
from tincan import Extensions as TincanExtensions

from xapi.errors import StatementInvalid
from xapi.timestamps import format_timestamp
from xapi.validation import is_absolute_iri, validate_statement
from xapi.vocabulary import (
    PROFILE_CATEGORY_TYPE,
    PROFILE_VERSION_ID,
    VERB_DISPLAY,
    ActivityTypes,
    Extensions,
    Verbs,
)

__all__ = [
    "StatementContext",
    "activity_iri",
    "competency_result",
    "flagged_for_coach",
    "launched",
    "milestone_reached",
    "override_applied",
    "recommended",
    "registration_for",
    "validate_statement",
]

# uuid5 namespace of Skillpath registrations: uuid5(NAMESPACE_URL, "https://w3id.org/xapi/skillpath")
_REGISTRATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/xapi/skillpath")


def registration_for(learner_key: str, pathway_id: str) -> uuid.UUID:
    """The xAPI registration of one learner on one pathway: deterministic, so every instance
    and every retry agrees on it."""
    return uuid.uuid5(_REGISTRATION_NAMESPACE, f"{learner_key}\n{pathway_id}")


def activity_iri(base_url: str, kind: str, key: str) -> str:
    """The activity IRI of a catalog item or LTI object: `key` itself when it is already an
    absolute IRI (content that reports to the LRS names lessons that way), else an IRI under the
    tool's base URL."""
    if is_absolute_iri(key):
        return key
    return f"{base_url.rstrip('/')}/xapi/activities/{kind}/{quote(key, safe='')}"


@dataclass(frozen=True, slots=True)
class StatementContext:
    """What every statement about one learner in one launch shares.

    `learner` is the actor from `xapi.identity.learner_actor`; `learner_key` its key;
    `context_id`/`resource_link_id` are the LTI claims (ids, not IRIs); `base_url` is the tool's.
    """

    base_url: str
    issuer: str
    learner: Mapping[str, Any]
    learner_key: str
    pathway_id: str
    context_id: str
    resource_link_id: str
    context_title: str | None = None
    resource_link_title: str | None = None
    language: str = "en"

    def lti_context_iri(self) -> str:
        """The LTI context (course) as an activity IRI under the tool's base URL."""
        return self._lti_iri("lti-context", self.context_id)

    def resource_link_iri(self) -> str:
        """The LTI resource link as an activity IRI under the tool's base URL."""
        return self._lti_iri("lti-resource-link", self.resource_link_id)

    def _lti_iri(self, kind: str, key: str) -> str:
        issuer = quote(self.issuer, safe="")
        return f"{self.base_url.rstrip('/')}/xapi/activities/{kind}/{issuer}/{quote(key, safe='')}"


def recommended(
    ctx: StatementContext,
    lesson_id: str,
    lesson_title: str,
    reasons: Sequence[str],
    *,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Skillpath recommended `lesson_id` to the learner, with the reasons it gave."""
    result = Result(extensions=TincanExtensions({Extensions.REASONS: list(reasons)}))
    return _build(
        ctx,
        Verbs.RECOMMENDED,
        _lesson(ctx, lesson_id, lesson_title),
        now,
        statement_id,
        result=result,
    )


def launched(
    ctx: StatementContext,
    lesson_id: str,
    lesson_title: str,
    *,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The learner launched `lesson_id` from their path."""
    return _build(ctx, Verbs.LAUNCHED, _lesson(ctx, lesson_id, lesson_title), now, statement_id)


def milestone_reached(
    ctx: StatementContext,
    milestone_id: str,
    milestone_title: str,
    *,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The learner reached a milestone of their pathway (ADL `satisfied`)."""
    target = _activity(ctx, "milestone", milestone_id, milestone_title, ActivityTypes.MILESTONE)
    return _build(
        ctx,
        Verbs.SATISFIED,
        target,
        now,
        statement_id,
        result=Result(success=True, completion=True),
    )


def competency_result(
    ctx: StatementContext,
    competency_id: str,
    competency_name: str,
    mastery: float,
    *,
    mastered: bool | None = None,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The learner's mastery estimate of a competency, in [0, 1], as `result.score.scaled`."""
    if not 0.0 <= mastery <= 1.0:
        raise StatementInvalid(f"mastery estimate {mastery} is outside [0, 1]")
    target = _activity(ctx, "competency", competency_id, competency_name, ActivityTypes.COMPETENCY)
    result = Result(score=Score(scaled=round(mastery, 4)), success=mastered)
    return _build(ctx, Verbs.SCORED, target, now, statement_id, result=result)


def override_applied(
    ctx: StatementContext,
    instructor: Mapping[str, Any],
    lesson_id: str,
    lesson_title: str,
    action: str,
    note: str = "",
    *,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """An instructor overrode the learner's path for `lesson_id` (`action`: skip, assign, ...).

    The instructor is the actor; the learner is named in a context extension and the
    registration, so a query on the learner's registration finds it.
    """
    result = Result(
        extensions=TincanExtensions(
            {
                Extensions.OVERRIDE: {"action": action, "note": note},
            }
        )
    )
    return _build(
        ctx,
        Verbs.OVERRODE,
        _lesson(ctx, lesson_id, lesson_title),
        now,
        statement_id,
        result=result,
        actor=instructor,
        context_extensions={Extensions.LEARNER: dict(ctx.learner)},
    )


def flagged_for_coach(
    ctx: StatementContext,
    competency_id: str,
    competency_name: str,
    reasons: Sequence[str],
    *,
    now: datetime,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Skillpath flagged the learner for a coach on a competency (stuck or at risk)."""
    target = _activity(ctx, "competency", competency_id, competency_name, ActivityTypes.COMPETENCY)
    result = Result(extensions=TincanExtensions({Extensions.REASONS: list(reasons)}))
    return _build(ctx, Verbs.FLAGGED, target, now, statement_id, result=result)


# -- shared parts --------------------------------------------------------------------------------


def _lesson(ctx: StatementContext, lesson_id: str, title: str) -> Activity:
    return _activity(ctx, "lesson", lesson_id, title, ActivityTypes.LESSON)


def _activity(ctx: StatementContext, kind: str, key: str, name: str, type_iri: str) -> Activity:
    return Activity(
        id=activity_iri(ctx.base_url, kind, key),
        definition=ActivityDefinition(type=type_iri, name=LanguageMap({ctx.language: name})),
    )


def _agent(actor: Mapping[str, Any]) -> Agent:
    account = actor.get("account")
    if isinstance(account, Mapping):
        return Agent(
            account=AgentAccount(home_page=account["homePage"], name=account["name"]),
            name=actor.get("name"),
        )
    return Agent(
        mbox=actor.get("mbox"),
        mbox_sha1sum=actor.get("mbox_sha1sum"),
        openid=actor.get("openid"),
        name=actor.get("name"),
    )


def _context(ctx: StatementContext, extensions: Mapping[str, Any] | None) -> Context:
    course = Activity(
        id=ctx.lti_context_iri(),
        definition=ActivityDefinition(
            type=ActivityTypes.COURSE,
            name=LanguageMap({ctx.language: ctx.context_title or ctx.context_id}),
        ),
    )
    link = Activity(
        id=ctx.resource_link_iri(),
        definition=ActivityDefinition(
            type=ActivityTypes.LINK,
            name=LanguageMap({ctx.language: ctx.resource_link_title or ctx.resource_link_id}),
        ),
    )
    category = Activity(
        id=PROFILE_VERSION_ID, definition=ActivityDefinition(type=PROFILE_CATEGORY_TYPE)
    )
    pathway = Activity(
        id=activity_iri(ctx.base_url, "pathway", ctx.pathway_id),
        definition=ActivityDefinition(type=ActivityTypes.PATHWAY),
    )
    return Context(
        registration=registration_for(ctx.learner_key, ctx.pathway_id),
        context_activities=ContextActivities(
            parent=[link], grouping=[course, pathway], category=[category]
        ),
        extensions=TincanExtensions({Extensions.PATHWAY: ctx.pathway_id, **(extensions or {})}),
        platform="Skillpath",
        language=None,
    )


def _build(
    ctx: StatementContext,
    verb_id: str,
    target: Activity,
    now: datetime,
    statement_id: uuid.UUID | None,
    *,
    result: Result | None = None,
    actor: Mapping[str, Any] | None = None,
    context_extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if now.tzinfo is None:
        raise StatementInvalid("statement time must be timezone-aware")
    statement = Statement(
        id=statement_id or uuid.uuid4(),
        actor=_agent(actor or ctx.learner),
        verb=Verb(id=verb_id, display=LanguageMap({"en-US": VERB_DISPLAY[verb_id]})),
        object=target,
        result=result,
        context=_context(ctx, context_extensions),
    )
    document: dict[str, Any] = statement.as_version("1.0.3")
    # The LRS sets `version`; tincan's timestamp keeps microseconds and +00:00, ours is the
    # millisecond 'Z' form every LRS parses the same way.
    document.pop("version", None)
    document["timestamp"] = format_timestamp(now)
    validate_statement(document)
    return document
