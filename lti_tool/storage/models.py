"""The tables of Skillpath's own database (SQLAlchemy 2 declarative models). Only
`lti_tool.storage` imports them; the rest of the app sees `records`.

Every schema change comes with an Alembic migration in `lti_tool/storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


REGISTRATION_ACTIVE = "active"
REGISTRATION_PENDING = "pending"
REGISTRATION_DISABLED = "disabled"
REGISTRATION_STATUSES = (REGISTRATION_ACTIVE, REGISTRATION_PENDING, REGISTRATION_DISABLED)


class RegistrationRow(Base):
    """One LMS platform as registered with us: keyed by (issuer, client_id)."""

    __tablename__ = "platform_registrations"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", name="uq_registration_issuer_client"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    keyset_url: Mapped[str] = mapped_column(String(1000))
    # How this registration's learners are named in xAPI (`lti_tool.usecases.identity`);
    # None: the default, account {homePage: issuer, name: sub}.
    xapi_identity: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # `active` launches; `pending` waits for an admin's approval (a dynamic registration);
    # `disabled` is kept but launches are refused.
    status: Mapped[str] = mapped_column(String(20), default=REGISTRATION_ACTIVE)
    # `manual` (an admin typed the platform's values) or `dynamic` (LTI Dynamic Registration).
    source: Mapped[str] = mapped_column(String(20), default="manual")
    # The LMS family the registration says it is (LTI Dynamic Registration's
    # `product_family_code`, or an admin's choice); launches that say nothing use it.
    product_family_code: Mapped[str | None] = mapped_column(String(100), nullable=True)

    deployments: Mapped[list[DeploymentRow]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="DeploymentRow.id"
    )


class DeploymentRow(Base):
    """A deployment of the tool within a platform registration (one per customer/context)."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_deployment_per_registration"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[RegistrationRow] = relationship(back_populates="deployments")


class ToolKeyRow(Base):
    """An RSA key of the tool. The newest unretired key signs; retired keys stay published
    until `publish_until`, so tokens signed with them can still be verified."""

    __tablename__ = "tool_keys"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LaunchRow(Base):
    """One validated LTI launch: who, where, in which tenant. Claims kept whole for services."""

    __tablename__ = "launches"
    __table_args__ = (
        Index("ix_launch_tenant_context", "issuer", "client_id", "deployment_id", "context_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    deployment_id: Mapped[str] = mapped_column(String(500))
    message_type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(500), nullable=True)
    role: Mapped[str] = mapped_column(String(30))
    user_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    context_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    context_title: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    resource_link_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    resource_link_title: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StoreEntry(Base):
    """The shared key-value store when no Redis is configured: state, nonces, caches."""

    __tablename__ = "store_entries"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# -- Learning: catalogs, the LRS, learner state (the chain from evidence to a path) --------
# A tenant is (issuer, client_id); the empty string in both means "the default", used by
# every registration that has none of its own.


class CatalogRow(Base):
    """An imported catalog document, per tenant (or the default)."""

    __tablename__ = "catalogs"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_catalog_tenant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(500), default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LrsConnectionRow(Base):
    """An LRS Skillpath reads evidence from and writes statements to, per tenant."""

    __tablename__ = "lrs_connections"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lrs_tenant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(500), default="")
    endpoint: Mapped[str] = mapped_column(String(1000))
    username: Mapped[str] = mapped_column(String(500))
    password_encrypted: Mapped[str] = mapped_column(Text)
    sync_cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearnerRow(Base):
    """One learner in one pathway of one course (tenant, deployment, context): the engine's
    state, persisted as JSON so any instance continues from it. The same person in another
    course of the same platform has another row: overrides and progress stay in their course.
    A launch without a context keeps `context_id` empty."""

    __tablename__ = "learners"
    __table_args__ = (
        UniqueConstraint(
            "issuer",
            "client_id",
            "deployment_id",
            "context_id",
            "subject",
            "pathway_id",
            name="uq_learner_course",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    deployment_id: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    pathway_id: Mapped[str] = mapped_column(String(200))
    context_id: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_launch_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    evidence_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The lesson last recommended: a "recommended" statement goes out only when it changes.
    last_recommended: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # The pathway progress last sent to the gradebook: a score goes out only when it changes.
    last_progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The LTI email claim, kept only when the registration names learners by mbox in xAPI.
    email: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # What statements already told the LRS (milestones reached, competencies mastered, coach
    # flags): a statement goes out only when this changes.
    reported: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EvidenceRow(Base):
    """One statement read from an LRS about a learner and a catalog lesson. Kept so that a
    voided statement can stop counting: the learner's state is rebuilt from what remains."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", "statement_id", name="uq_evidence_statement"),
        Index("ix_evidence_learner", "issuer", "client_id", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    statement_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(1000))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- The outbox: items waiting to leave Skillpath, and the audit log of every attempt -----------
# An item is written in the same transaction as the change that caused it (a new score, a new
# xAPI statement) and removed from the queue only by a worker that saw the receiver's answer.

# The states of an item. `pending` items are waiting or leased to a worker; the other three
# are final.
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SUPERSEDED = "superseded"
STATUSES = (PENDING, DELIVERED, FAILED, SUPERSEDED)


class OutboxRow(Base):
    """One message to deliver (an AGS score, an xAPI statement), with its delivery state.

    `supersede_key` groups items where only the newest matters (one learner's score on one
    line item): enqueueing a newer one retires undelivered older ones, and items of one key
    are delivered in order. A worker leases an item by setting `lease_token` and
    `leased_until`; a worker killed mid-delivery leaves a lease that simply runs out.
    """

    __tablename__ = "outbox_items"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_supersede", "kind", "supersede_key", "status"),
        Index("ix_outbox_destination", "destination", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    supersede_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Where the item goes (one platform registration, one tenant's LRS): the unit of health
    # (`DestinationRow`). Set at enqueue.
    destination: Mapped[str] = mapped_column(String(1100), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last attempt may have reached the receiver without us seeing the answer (connection
    # dropped after the request was sent): the next attempt checks before sending again.
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AttemptRow(Base):
    """The audit log: one row per attempt, what was sent and what the receiver answered."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_item", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("outbox_items.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    request_summary: Mapped[str] = mapped_column(Text, default="")
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


# -- The pages: what the learner and instructor pages read, kept beside each learner record --
# A page view reads these rows and never the evidence: the learner state is brought up to
# date when evidence arrives (at launch, on return from a lesson, by the background sync).


class LearnerPageRow(Base):
    """One learner record's bookkeeping for incremental state and its stored view.

    `evidence_cursor` is the highest evidence row id already applied to the state; newer rows
    are applied one by one (`recommender.update`). `replay_needed` is set when evidence is
    voided or arrives out of time order; a changed `params_version` also means a replay.
    `snapshot` is what the learner page shows and `summary` the learner's row in the class
    view, both computed at `computed_at` from the state."""

    __tablename__ = "learner_pages"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    display_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    launch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence_cursor: Mapped[int] = mapped_column(Integer, default=0)
    evidence_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replay_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    params_version: Mapped[str] = mapped_column(String(64), default="")
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    pre_assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    opened: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RecognitionRow(Base):
    """A milestone a learner reached, recorded once: shown on their page until seen."""

    __tablename__ = "recognitions"
    __table_args__ = (UniqueConstraint("learner_id", "milestone_id", name="uq_recognition"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    milestone_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(1000), default="")
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LearnerGroupRow(Base):
    """The group an instructor's course puts a learner in, for the equity report (from a CSV
    of `sub,group`). Kept per course: one course's groups never show in another."""

    __tablename__ = "learner_groups"
    __table_args__ = (
        UniqueConstraint(
            "issuer", "client_id", "deployment_id", "context_id", "subject", name="uq_learner_group"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    deployment_id: Mapped[str] = mapped_column(String(500))
    context_id: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    group_name: Mapped[str] = mapped_column(String(200))


class ModelFitRow(Base):
    """One fit of the learner model to a tenant's own evidence: the parameters, the report
    (observations used, held-out AUC and calibration against the parameters in use, time
    taken, competencies left at the priors) and whether it was switched on. Versioned per
    tenant; the newest active one is what the tenant's pages use."""

    __tablename__ = "model_fits"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", "version", name="uq_model_fit_version"),
        Index("ix_model_fit_tenant", "issuer", "client_id", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer)
    catalog_digest: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Switched on for the tenant's pages; a fit that did not beat the parameters in use is
    # kept as a report only.
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(Text, default="")
    evidence_seen: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DestinationRow(Base):
    """The health of one destination of the outbox (a platform registration, a tenant's LRS).

    A row appears on the first failure that says the receiver itself is unwell (network,
    5xx, 429). `failures` counts such failures since the last success; from
    `PROBE_AFTER_FAILURES` on, the destination is *failing*: workers stop claiming its items
    and send one probe at `probe_at` instead. The first success resets it and makes every
    waiting item of the destination due at once.
    """

    __tablename__ = "outbox_destinations"

    destination: Mapped[str] = mapped_column(String(1100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    probe_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


# -- The admin console: local admin accounts and the audit log of every change --------------


class AdminAccountRow(Base):
    """A local admin of the console (`skillpath admin create`); the password as an argon2
    hash, never the password."""

    __tablename__ = "admin_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditRow(Base):
    """One change made by an admin (console or command line): who, when, what, for which
    registration (empty issuer and client id: the installation as a whole)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_tenant", "issuer", "client_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(500), default="")
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
