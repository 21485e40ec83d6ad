"""What the repositories hand out and take in: plain dataclasses, never ORM rows.

A tenant is one platform registration, `(issuer, client_id)`; `Tenant.DEFAULT` (two empty
strings) is the fallback every registration without its own catalog or LRS uses. A course is
one LTI context inside one deployment of a tenant: learner records, class views and overrides
are scoped by `Course`, so a query that forgets the course cannot be written.

Imports nothing of SQLAlchemy: use cases import these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Tenant:
    """One platform registration: every tenant-scoped query takes one."""

    issuer: str
    client_id: str

    DEFAULT: ClassVar[Tenant]

    @property
    def is_default(self) -> bool:
        return not self.issuer and not self.client_id


Tenant.DEFAULT = Tenant("", "")


@dataclass(frozen=True, slots=True)
class Course:
    """One course (LTI context) of one deployment of a tenant. A launch without a context
    is its own course with the empty context id."""

    tenant: Tenant
    deployment_id: str
    context_id: str


@dataclass(frozen=True, slots=True)
class LaunchRecord:
    """One validated LTI launch: who, where, in which tenant; the claims kept whole."""

    id: str
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    subject: str | None
    role: str
    user_name: str | None
    context_id: str | None
    context_title: str | None
    resource_link_id: str | None
    resource_link_title: str | None
    claims: Mapping[str, Any]
    created_at: datetime

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.issuer, self.client_id)

    @property
    def course(self) -> Course:
        return Course(self.tenant, self.deployment_id, self.context_id or "")


@dataclass(frozen=True, slots=True)
class RegistrationRecord:
    """A platform as registered with us, with its deployment ids."""

    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    keyset_url: str
    deployments: tuple[str, ...]
    xapi_identity: Mapping[str, Any] | None
    created_at: datetime
    status: str = "active"
    source: str = "manual"
    product_family_code: str | None = None

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.issuer, self.client_id)

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class ToolKeyRecord:
    kid: str
    private_key_encrypted: str
    public_jwk: Mapping[str, Any]
    created_at: datetime
    retired_at: datetime | None
    publish_until: datetime | None


@dataclass(frozen=True, slots=True)
class LrsConnectionRecord:
    """Where one tenant's (or the default) LRS is; the password still encrypted."""

    id: int
    tenant: Tenant
    endpoint: str
    username: str
    password_encrypted: str = field(repr=False)
    sync_cursor: Mapping[str, Any] | None = None


@dataclass(slots=True)
class LearnerRecord:
    """One learner in one pathway of one course: the engine's state as JSON and what was
    last told to the LRS and the gradebook. Mutable: change it, then `learners.save` it."""

    id: int
    course: Course
    subject: str
    pathway_id: str
    state: dict[str, Any]
    first_launch_at: datetime
    updated_at: datetime
    evidence_refreshed_at: datetime | None = None
    last_recommended: str | None = None
    last_progress: float | None = None
    email: str | None = None
    reported: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outbox item as the admin lists it."""

    id: int
    kind: str
    status: str
    payload: Mapping[str, Any]
    attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One delivery attempt from the outbox's audit log."""

    item_id: int
    attempted_at: datetime
    outcome: str
    request_summary: str
    response_status: int | None
    response_body: str
    worker: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ItemToDeliver:
    """An outbox item as a deliverer sees it (a copy: deliverers never touch the database)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    uncertain: bool
    created_at: datetime
    # Where it goes (the unit of health; see `lti_tool.storage.outbox`).
    destination: str = ""


@dataclass(frozen=True, slots=True)
class DestinationHealth:
    """One destination of the outbox: its waiting items and its health (operators, metrics)."""

    destination: str
    pending: int
    oldest_pending_at: datetime | None
    failures: int
    failing: bool
    probe_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One stored statement about a learner, as the instructor's drill-down lists it."""

    id: int
    statement_id: str
    lesson_id: str
    timestamp: datetime
    score: float | None
    success: bool | None
    duration_seconds: float | None
    voided: bool
    stored_at: datetime


@dataclass(slots=True)
class LearnerPageRecord:
    """What the pages keep beside one learner record (see `LearnerPageRow`). Mutable: change
    it, then `learner_pages.save` it."""

    learner_id: int
    display_name: str | None = None
    launch_id: str | None = None
    evidence_cursor: int = 0
    evidence_at: datetime | None = None
    replay_needed: bool = False
    params_version: str = ""
    preferences: dict[str, Any] = field(default_factory=dict)
    pre_assessment: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    opened: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    computed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredView:
    """A learner's stored page view, as a page read finds it (no state, no evidence)."""

    learner_id: int
    snapshot: Mapping[str, Any] | None
    computed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClassMember:
    """One learner's row of the class view, from the stored summary."""

    learner_id: int
    subject: str
    pathway_id: str
    display_name: str | None
    summary: Mapping[str, Any] | None
    computed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecognitionRecord:
    """A milestone a learner reached."""

    milestone_id: str
    title: str
    reached_at: datetime
    seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class ModelFitRecord:
    """One stored fit of the learner model for a tenant (see `ModelFitRow`)."""

    id: int
    tenant: Tenant
    version: int
    catalog_digest: str
    params: Mapping[str, Any]
    report: Mapping[str, Any]
    active: bool
    verdict: str
    evidence_seen: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AdminAccountRecord:
    """A local admin account; the hash is argon2's encoded string."""

    id: int
    username: str
    password_hash: str = field(repr=False)
    created_at: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit log."""

    id: int
    at: datetime
    actor: str
    tenant: Tenant
    action: str
    detail: str
