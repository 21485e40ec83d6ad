"""Skillpath's own statements to the LRS: built by `xapi.statements`, queued in the durable
outbox in the transaction of the change that caused them, delivered by the worker with the
statement's own id (so a retry is idempotent: 204, or 409 on an identical one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.learning.identity import actor_for, launch_email
from lti_tool.learning.lrs_evidence import LrsGateway
from lti_tool.models import Launch
from lti_tool.outbox.delivery import (
    Delivered,
    DeliveryResult,
    Exchange,
    Failed,
    ItemToDeliver,
    RetryLater,
)
from lti_tool.outbox.queue import enqueue
from lti_tool.outbox.registry import register_deliverer
from lti_tool.services import Services
from xapi.errors import LrsConnectionError, LrsRejectedStatement, StatementInvalid, XapiError
from xapi.identity import IdentityPolicy, learner_key
from xapi.statements import StatementContext

KIND = "xapi_statement"


def statement_context(
    base_url: str,
    launch: Launch,
    pathway_id: str,
    policy: IdentityPolicy,
    subject: str | None = None,
    email: str | None = None,
) -> StatementContext:
    """What the statements about one learner share. The learner is the launch's user unless
    `subject` names another (an instructor's override is about a learner)."""
    issuer = launch.issuer
    if subject is None:
        subject, email = launch.subject or "", launch_email(launch)
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
    session: Session, launch: Launch, statement: dict[str, Any], now: datetime
) -> None:
    """Queue one statement for the LRS of the launch's tenant, in the caller's transaction."""
    enqueue(
        session,
        KIND,
        {"issuer": launch.issuer, "client_id": launch.client_id, "statement": statement},
        now=now,
    )


class XapiStatementDeliverer:
    def __init__(self, services: Services) -> None:
        self._gateway = LrsGateway(services)

    def deliver(self, item: ItemToDeliver) -> DeliveryResult:
        payload = item.payload
        statement = payload["statement"]
        lrs = self._gateway.settings_for(payload["issuer"], payload["client_id"])
        summary = f"PUT statements?statementId={statement.get('id')}"
        if lrs is None:
            return RetryLater("no LRS is connected for this registration", after=300)
        try:
            client, _ = self._gateway.client(lrs)
            client.put_statement(statement, statement_id=statement["id"])
        except (LrsRejectedStatement, StatementInvalid) as exc:
            return Failed(
                f"the LRS rejected the statement: {exc}",
                Exchange(summary, getattr(exc, "status", None), str(exc)),
            )
        except LrsConnectionError as exc:
            return RetryLater(str(exc), uncertain=True, exchange=Exchange(summary, None, str(exc)))
        except XapiError as exc:
            return RetryLater(
                str(exc), exchange=Exchange(summary, getattr(exc, "status", None), str(exc))
            )
        return Delivered(Exchange(summary, 204, ""))


register_deliverer(KIND, XapiStatementDeliverer)
