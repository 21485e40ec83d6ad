"""Skillpath's own statements to the LRS: built by `xapi.statements`, queued in the durable
outbox in the transaction of the change that caused them (delivered by
`lti_tool.lrs.delivery` with the statement's own id, so a retry is idempotent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lti_tool.lrs.actors import actor_for
from lti_tool.lrs.delivery import KIND
from lti_tool.lti.vocabulary import launch_email
from lti_tool.storage import LaunchRecord, Transaction
from xapi.identity import IdentityPolicy, learner_key
from xapi.statements import StatementContext


def statement_context(
    base_url: str,
    launch: LaunchRecord,
    pathway_id: str,
    policy: IdentityPolicy,
    subject: str | None = None,
    email: str | None = None,
) -> StatementContext:
    """What the statements about one learner share. The learner is the launch's user unless
    `subject` names another (an instructor's override is about a learner)."""
    issuer = launch.issuer
    if subject is None:
        subject, email = launch.subject or "", launch_email(launch.claims)
    return StatementContext(
        base_url=base_url,
        issuer=issuer,
        learner=actor_for(policy, issuer, subject, email),
        learner_key=learner_key(issuer, subject),
        pathway_id=pathway_id,
        context_id=launch.context_id or "no-context",
        resource_link_id=launch.resource_link_id or "no-link",
        context_title=launch.context_title,
        resource_link_title=launch.resource_link_title,
    )


def queue_statement(
    tx: Transaction, launch: LaunchRecord, statement: dict[str, Any], now: datetime
) -> None:
    """Queue one statement for the LRS of the launch's tenant, in the caller's transaction."""
    tx.outbox.enqueue(
        KIND,
        {"issuer": launch.issuer, "client_id": launch.client_id, "statement": statement},
        now=now,
    )
