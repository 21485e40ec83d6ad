"""Who changes the installation, and the audit log of what they changed.

Every admin use case takes an `AdminActor`: a local admin of the console (sees and changes
everything), the administrator of one LMS registration who came in by an LTI launch (sees
and changes that registration only), or the command line. Each change is written to the
audit log in the same transaction as the change itself, naming the actor, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.errors import Forbidden
from lti_tool.storage import AuditRecord, Tenant, Transaction
from lti_tool.usecases.ports import Ports


@dataclass(frozen=True)
class AdminActor:
    """`label` is what the audit log shows ("local admin alice", "administrator of Our
    Canvas"); `tenant` limits what the actor may see and change (None: everything)."""

    label: str
    tenant: Tenant | None = None

    @property
    def sees_everything(self) -> bool:
        return self.tenant is None

    def may_manage(self, tenant: Tenant) -> bool:
        return self.tenant is None or self.tenant == tenant

    def require(self, tenant: Tenant) -> None:
        """Refuse (403) what lies outside the actor's registration."""
        if not self.may_manage(tenant):
            raise Forbidden(
                "Your admin access covers your own LMS registration only.", code="out_of_scope"
            )

    def require_everything(self) -> None:
        """Refuse (403) what only a local admin may do (approving registrations, the tool
        key, the defaults every registration shares)."""
        if not self.sees_everything:
            raise Forbidden(
                "Only a local Skillpath admin (`skillpath admin create`) may do this.",
                code="local_admin_only",
            )


COMMAND_LINE = AdminActor("command line")


def record(
    tx: Transaction, ports: Ports, actor: AdminActor, tenant: Tenant, action: str, detail: str
) -> None:
    """Write one audit entry (in the caller's transaction)."""
    tx.audit.record(actor.label, tenant, action, detail, ports.now())


def audit_log(ports: Ports, actor: AdminActor, limit: int = 200) -> list[AuditRecord]:
    """The newest entries the actor may see (their registration's only, unless local)."""
    with ports.storage.transaction() as tx:
        return tx.audit.recent(actor.tenant, limit)
