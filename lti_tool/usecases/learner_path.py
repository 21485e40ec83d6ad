"""The learner's path: the use cases behind the learner page and `/api/v1/me/...`.

- `open_path` runs at the learner's launch: their new statements are read from the LRS
  (bounded by a timeout) and applied to the stored state; the view is computed and stored
  when something changed (or the stored one is older than `VIEW_MAX_AGE` or from another
  catalog), else the stored view stands with the LRS read's status.
- `read_path` is every later read (the page, `GET /api/v1/me/path`): the stored view, and
  nothing else, unless it is older than `VIEW_MAX_AGE` or the catalog changed (then it is
  recomputed from the stored state; the LRS and the evidence are never read).
- `returned_from_lesson` reads the LRS again, once, when the learner comes back from a
  lesson they opened from the page; `set_preferences`, `answer_pre_assessment` and
  `acknowledge_recognitions` change what the learner chose and recompute the view.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from lti_tool.errors import InvalidBody, NoCatalog, NotFound
from lti_tool.lrs.actors import actor_for, identity_policy
from lti_tool.lrs.gateway import LrsSettings
from lti_tool.lti.vocabulary import RESOURCE_LINK_REQUEST, custom_parameter, launch_email
from lti_tool.storage import LaunchRecord, LearnerPageRecord, LearnerRecord, Transaction
from lti_tool.usecases.evidence import refresh
from lti_tool.usecases.learner_refresh import Telling, recompute
from lti_tool.usecases.learner_state import stored_state, update_if_new
from lti_tool.usecases.learner_view import VIEW_VERSION
from lti_tool.usecases.model import params_for
from lti_tool.usecases.ports import Ports
from lti_tool.usecases.pre_assessment import pre_assessment_of
from lti_tool.usecases.statements import queue_statement, statement_context
from recommender import Catalog, LearnerState, UnknownIdError, new_learner
from xapi.statements import launched, registration_for

# A stored view older than this is recomputed from the stored state on the next read.
VIEW_MAX_AGE = timedelta(hours=1)
PACES = (10, 15, 20, 30, 45, 60, 90)
BUDGETS = (5, 10, 15, 20, 30, 45, 60)


def pathway_of(launch: LaunchRecord, catalog: Catalog) -> str:
    """The resource link's custom `pathway`, or the catalog's only pathway."""
    return catalog.pathway(custom_parameter(launch.claims, "pathway")).id


@dataclass(frozen=True)
class _Found:
    catalog: Catalog
    digest: str
    pathway_id: str


def _catalog_of(tx: Transaction, launch: LaunchRecord) -> _Found:
    found = tx.catalogs.effective(launch.tenant)
    if found is None:
        raise NoCatalog()
    digest, catalog = found
    try:
        return _Found(catalog, digest, pathway_of(launch, catalog))
    except UnknownIdError as exc:
        raise NoCatalog(str(exc)) from None


def _learner(
    tx: Transaction, launch: LaunchRecord, pathway_id: str, now: datetime
) -> tuple[LearnerRecord, LearnerPageRecord]:
    subject = launch.subject or ""
    found = tx.learner_pages.find_with_page(launch.course, subject, pathway_id)
    if found is None:
        record = tx.learners.create(
            launch.course, subject, pathway_id, new_learner(subject).to_dict(), now
        )
        page = tx.learner_pages.of(record.id)
    else:
        record, page = found
    page.launch_id = launch.id
    if launch.user_name:
        page.display_name = launch.user_name
    return record, page


def _telling(ports: Ports, launch: LaunchRecord, lrs: LrsSettings | None) -> Telling:
    """Who hears of the learner's new view: the launch's platform, and the LRS when the
    tenant has one (`lrs`, as `settings_for` found it)."""
    return Telling(launch, ports.settings.base_url if lrs is not None else None)


def open_path(ports: Ports, launch: LaunchRecord) -> dict[str, Any]:
    """The learner's launch: read their new statements, bring the state up to date, store
    and return the view. Raises `NoCatalog`."""
    now = ports.now()
    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        lrs = ports.lrs.settings_for(launch.tenant, tx)
        telling = _telling(ports, launch, lrs)
        record, page = _learner(tx, launch, found.pathway_id, now)
        evidence = _read_lrs(ports, tx, launch, record, found.catalog, now, lrs)
        page.replay_needed = page.replay_needed or tx.learner_pages.of(record.id).replay_needed
        params = params_for(tx, record.course.tenant)
        state, changed = update_if_new(tx, record, page, found.catalog, params)
        if not changed and _still_current(page, found.digest, now):
            # Nothing new about this learner: the stored view stands (computing it again
            # would only repeat the path preview); the page learns how fresh the LRS read was.
            page.snapshot = {**(page.snapshot or {}), "evidence": evidence}
            tx.learner_pages.save(page)
            return dict(page.snapshot)
        view = recompute(
            tx,
            record,
            page,
            found.catalog,
            found.digest,
            now,
            telling,
            evidence=evidence,
            state=state if state is not None else stored_state(record),
        )
        return view.snapshot


def _still_current(page: LearnerPageRecord, digest: str, now: datetime) -> bool:
    """The stored view was made from this catalog, by this code, less than VIEW_MAX_AGE ago
    (the same rule `read_path` reads by)."""
    snapshot = page.snapshot
    return (
        snapshot is not None
        and page.computed_at is not None
        and now - page.computed_at < VIEW_MAX_AGE
        and snapshot.get("catalog") == digest
        and snapshot.get("version") == VIEW_VERSION
    )


def arrive(ports: Ports, launch: LaunchRecord) -> None:
    """After a validated launch: a learner's resource-link launch opens their path (the LRS
    is read here, once per launch). Without a catalog the page says so."""
    if launch.role != "learner" or launch.message_type != RESOURCE_LINK_REQUEST:
        return
    try:
        open_path(ports, launch)
    except NoCatalog:
        pass


def _read_lrs(
    ports: Ports,
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    catalog: Catalog,
    now: datetime,
    lrs: LrsSettings | None,
) -> dict[str, Any]:
    source = None
    if lrs is not None:  # how learners are named in the LRS matters only with one
        policy = identity_policy(tx, launch.tenant)
        source = ports.lrs.evidence_source(launch.tenant, policy, launch_email(launch.claims), lrs)
    status = refresh(tx, record, source, catalog, now)
    return {
        "status": status.status,
        "refreshed_at": status.refreshed_at.isoformat() if status.refreshed_at else None,
        "message": status.message,
    }


def read_path(ports: Ports, launch: LaunchRecord) -> dict[str, Any]:
    """The learner's stored view (one query), recomputed from the stored state only when it
    is missing, older than `VIEW_MAX_AGE` or made from another catalog version."""
    now = ports.now()
    with ports.storage.reading() as tx:  # a recompute below writes in its own transaction
        found = _catalog_of(tx, launch)
        stored = tx.learner_pages.view(launch.course, launch.subject or "", found.pathway_id)
        if (
            stored is not None
            and stored.snapshot is not None
            and stored.computed_at is not None
            and now - stored.computed_at < VIEW_MAX_AGE
            and stored.snapshot.get("catalog") == found.digest
        ):
            return dict(stored.snapshot)
    return _changed(ports, launch, lambda record, page: None)


def _changed(
    ports: Ports,
    launch: LaunchRecord,
    change: Any,
    *,
    read_lrs: bool = False,
) -> dict[str, Any]:
    """Apply `change(record, page)` to the learner's records, recompute, store, tell."""
    now = ports.now()
    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        lrs = ports.lrs.settings_for(launch.tenant, tx)
        telling = _telling(ports, launch, lrs)
        record, page = _learner(tx, launch, found.pathway_id, now)
        state = change(record, page)
        evidence = None
        if read_lrs:
            evidence = _read_lrs(ports, tx, launch, record, found.catalog, now, lrs)
            replay = tx.learner_pages.of(record.id).replay_needed
            page.replay_needed = page.replay_needed or replay
        view = recompute(
            tx,
            record,
            page,
            found.catalog,
            found.digest,
            now,
            telling,
            evidence=evidence,
            state=state if isinstance(state, LearnerState) else None,
        )
        return view.snapshot


def returned_from_lesson(ports: Ports, launch: LaunchRecord) -> dict[str, Any]:
    """The learner is back on the page after opening a lesson: read the LRS once for what
    the lesson reported. Without a lesson opened since the last read, the stored view."""
    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        both = tx.learner_pages.find_with_page(
            launch.course, launch.subject or "", found.pathway_id
        )
        opened = (both[1].opened or {}) if both is not None else {}
    if not opened.get("at") or opened.get("read"):
        return read_path(ports, launch)

    def mark(record: LearnerRecord, page: LearnerPageRecord) -> None:
        page.opened = {**(page.opened or {}), "read": True}

    return _changed(ports, launch, mark, read_lrs=True)


def set_preferences(
    ports: Ports,
    launch: LaunchRecord,
    *,
    format: str | None = None,
    minutes: int | None = None,
    minutes_per_day: int | None = None,
    keep: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """The learner's format, "I have N minutes" and pace (minutes a day); None clears a
    choice. The recommendation changes at once. `keep` names fields left as they were."""
    keep = keep or {}
    if minutes is not None and minutes not in BUDGETS:
        raise InvalidBody(f"minutes: one of {', '.join(map(str, BUDGETS))}")
    if minutes_per_day is not None and minutes_per_day not in PACES:
        raise InvalidBody(f"minutes_per_day: one of {', '.join(map(str, PACES))}")
    now = ports.now()

    def change(record: LearnerRecord, page: LearnerPageRecord) -> None:
        prefs = dict(page.preferences)
        if not keep.get("format"):
            prefs["format"] = format
        if not keep.get("minutes"):
            prefs["minutes"] = minutes
            prefs["minutes_set_at"] = now.isoformat() if minutes else None
        if not keep.get("minutes_per_day"):
            state = LearnerState.from_dict(record.state)
            record.state = {**state.to_dict(), "minutes_per_day": minutes_per_day}
        page.preferences = prefs

    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        formats = {lesson.format for lesson in found.catalog.lessons.values()}
    if format is not None and not keep.get("format") and format not in formats:
        raise InvalidBody(f"format: one of {', '.join(sorted(formats))}")
    return _changed(ports, launch, change)


def answer_pre_assessment(
    ports: Ports, launch: LaunchRecord, answers: Mapping[str, int] | None
) -> dict[str, Any]:
    """The learner's answers to the pathway's pre-assessment (None: skipped). Taken once."""
    now = ports.now()

    def change(record: LearnerRecord, page: LearnerPageRecord) -> None:
        if (page.pre_assessment or {}).get("status"):
            raise InvalidBody("The pre-assessment was already taken or skipped.")
        with ports.storage.transaction() as tx:
            catalog = _catalog_of(tx, launch).catalog
        form = pre_assessment_of(catalog.pathway(record.pathway_id))
        if form is None:
            raise NotFound("This pathway has no pre-assessment.")
        if answers is None:
            page.pre_assessment = {"status": "skipped", "at": now.isoformat()}
            return
        unknown = sorted(set(answers) - {q.id for q in form.questions})
        if unknown:
            raise InvalidBody(f"answers: unknown question {unknown[0]!r}")
        page.pre_assessment = {
            "status": "done",
            "at": now.isoformat(),
            "scores": form.scores(answers),
        }
        page.replay_needed = True  # the starting point goes under the evidence

    return _changed(ports, launch, change)


def acknowledge_recognitions(ports: Ports, launch: LaunchRecord) -> dict[str, Any]:
    """The learner has seen their new recognitions: the page stops announcing them."""
    now = ports.now()
    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        record = tx.learners.find(launch.course, launch.subject or "", found.pathway_id)
        if record is None:
            raise NotFound("Open your path first.")
        tx.recognitions.mark_seen(record.id, now)
    return _changed(ports, launch, lambda record, page: None)


def lesson_url(ports: Ports, launch: LaunchRecord, lesson_id: str) -> str:
    """Where the learner goes to take a lesson of their catalog. The opening is noted (the
    page reads the LRS when they come back) and, with an LRS connected, "launched" is queued
    in the same transaction. A lesson whose catalog entry says `"xapi_launch": true` gets
    the learner's xAPI actor and a registration in its query, so content that reports to
    the LRS names the learner as Skillpath reads them. NotFound for a lesson not in the
    tenant's catalog or without a web address."""
    now = ports.now()
    connected = ports.lrs.connected(launch.tenant)
    with ports.storage.transaction() as tx:
        found = _catalog_of(tx, launch)
        lesson = found.catalog.lessons.get(lesson_id)
        if lesson is None:
            raise NotFound("This lesson is not in your course's catalog.")
        if not lesson.url or not lesson.url.lower().startswith(("https://", "http://")):
            raise NotFound("This lesson has no web address to open; ask your instructor.")
        policy = identity_policy(tx, launch.tenant)
        context = statement_context(ports.settings.base_url, launch, found.pathway_id, policy)
        if connected:
            queue_statement(tx, launch, launched(context, lesson.id, lesson.title, now=now), now)
        record = tx.learners.find(launch.course, launch.subject or "", found.pathway_id)
        if record is not None:
            page = tx.learner_pages.of(record.id)
            page.opened = {"lesson_id": lesson.id, "at": now.isoformat(), "read": False}
            tx.learner_pages.save(page)
        if lesson.extra.get("xapi_launch") is not True:
            return lesson.url
        actor = actor_for(policy, launch.issuer, launch.subject or "", launch_email(launch.claims))
        return _with_query(
            lesson.url,
            {
                "actor": _json(actor),
                "activity_id": lesson.id,
                "registration": str(registration_for(context.learner_key, found.pathway_id)),
            },
        )


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
