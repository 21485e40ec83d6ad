"""The outbox deliverer of Skillpath's own statements: each goes to the LRS of its tenant with
the statement's own id, so a retry is idempotent (204, or 409 on an identical one)."""

from __future__ import annotations

from lti_tool.lrs.gateway import LrsGateway
from lti_tool.outbox.delivery import (
    Delivered,
    DeliveryResult,
    Exchange,
    Failed,
    ItemToDeliver,
    RetryLater,
)
from lti_tool.storage import Tenant
from xapi.errors import LrsConnectionError, LrsRejectedStatement, StatementInvalid, XapiError

KIND = "xapi_statement"


class XapiStatementDeliverer:
    def __init__(self, gateway: LrsGateway) -> None:
        self._gateway = gateway

    def deliver(self, item: ItemToDeliver) -> DeliveryResult:
        payload = item.payload
        statement = payload["statement"]
        lrs = self._gateway.settings_for(Tenant(payload["issuer"], payload["client_id"]))
        summary = f"PUT statements?statementId={statement.get('id')}"
        if lrs is None:
            return RetryLater(
                "no LRS is connected for this registration", after=300, item_only=True
            )
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
