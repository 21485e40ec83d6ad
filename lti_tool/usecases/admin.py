"""What an admin does to the installation: register platforms and deployments, import
catalogs, connect LRSs and say how learners are named there, rotate the tool key. The
`skillpath` commands and the admin console call these; each runs in one transaction, checks
its input and who asks (`AdminActor`), changes nothing when it refuses, and writes what it
changed to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ConfigurationError, UnknownRegistration
from lti_tool.inputs import IDENTIFIER_LENGTH
from lti_tool.lrs.actors import MODES
from lti_tool.lti import registrations, tool_keys
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import LrsConnectionRecord, RegistrationRecord, Tenant, ToolKeyRecord
from lti_tool.usecases import catalogs
from lti_tool.usecases.audit import COMMAND_LINE, AdminActor, record
from lti_tool.usecases.catalogs import ImportResult
from lti_tool.usecases.ports import Ports
from xapi.identity import IdentityMode


def register_platform(
    ports: Ports, data: RegistrationInput, actor: AdminActor = COMMAND_LINE
) -> RegistrationRecord:
    actor.require_everything()
    with ports.storage.transaction() as tx:
        added = registrations.add_registration(tx, data, ports.now())
        record(
            tx,
            ports,
            actor,
            added.tenant,
            "platform.register",
            f"registered {added.name} (issuer {added.issuer}, client id {added.client_id}) "
            f"with {len(added.deployments)} deployment(s)",
        )
        return added


def list_platforms(ports: Ports, actor: AdminActor = COMMAND_LINE) -> list[RegistrationRecord]:
    """Every registration, or only the actor's own."""
    with ports.storage.transaction() as tx:
        return [r for r in registrations.list_registrations(tx) if actor.may_manage(r.tenant)]


def remove_platform(ports: Ports, tenant: Tenant, actor: AdminActor = COMMAND_LINE) -> None:
    """Remove a registration; its sessions end at once (their launches are forgotten)."""
    actor.require_everything()
    with ports.storage.transaction() as tx:
        registrations.remove_registration(tx, tenant)
        record(tx, ports, actor, tenant, "platform.remove", "removed; its sessions ended")


def add_deployment(
    ports: Ports, tenant: Tenant, deployment_id: str, actor: AdminActor = COMMAND_LINE
) -> None:
    actor.require(tenant)
    deployment_id = deployment_id.strip()
    with ports.storage.transaction() as tx:
        registrations.add_deployment(tx, tenant, deployment_id, ports.now())
        record(tx, ports, actor, tenant, "deployment.add", f"added deployment {deployment_id}")


def remove_deployment(
    ports: Ports, tenant: Tenant, deployment_id: str, actor: AdminActor = COMMAND_LINE
) -> None:
    """Launches of that deployment are refused from now on."""
    actor.require(tenant)
    with ports.storage.transaction() as tx:
        if not tx.registrations.remove_deployment(tenant, deployment_id):
            raise ConfigurationError(f"deployment {deployment_id!r} is not registered")
        record(tx, ports, actor, tenant, "deployment.remove", f"removed deployment {deployment_id}")


def import_catalog(
    ports: Ports,
    document: Any,
    tenant: Tenant = Tenant.DEFAULT,
    actor: AdminActor = COMMAND_LINE,
) -> ImportResult:
    """Import a parsed catalog document, within the installation's catalog limits."""
    actor.require(tenant)
    limits = catalogs.CatalogLimits.of(ports.settings)
    with ports.storage.transaction() as tx:
        result = catalogs.import_catalog(tx, document, tenant, ports.now(), limits)
        if result.changed:
            record(
                tx,
                ports,
                actor,
                tenant,
                "catalog.import",
                f"{'imported' if result.created else 'updated'} the catalog: "
                f"{result.competencies} competencies, {result.lessons} lessons, "
                f"{result.pathways} pathways",
            )
        return result


def import_catalog_file(
    ports: Ports, raw: bytes, tenant: Tenant = Tenant.DEFAULT, actor: AdminActor = COMMAND_LINE
) -> ImportResult:
    """Import a catalog file's bytes (a command's file, an upload): parsed within the limits.
    Read at most `settings.catalog_max_bytes + 1` bytes of it: more is refused anyway."""
    document = catalogs.parse_catalog(raw, catalogs.CatalogLimits.of(ports.settings))
    return import_catalog(ports, document, tenant, actor)


def rotate_tool_key(ports: Ports, actor: AdminActor = COMMAND_LINE) -> ToolKeyRecord:
    """Sign with a new key from now on; retired keys stay published for the retention time."""
    actor.require_everything()
    now = ports.now()
    with ports.storage.transaction() as tx:
        key = tool_keys.rotate(
            tx, ports.box, now, timedelta(hours=ports.settings.key_retention_hours)
        )
        record(tx, ports, actor, Tenant.DEFAULT, "keys.rotate", f"new signing key {key.kid}")
    ports.signing_key.forget()
    return key


def tool_key_listing(ports: Ports, actor: AdminActor) -> list[ToolKeyRecord]:
    """The tool's keys, newest first (public parts only matter to the caller)."""
    actor.require_everything()
    with ports.storage.transaction() as tx:
        return tx.tool_keys.all()


def _check_tenant(ports: Ports, tenant: Tenant, what: str) -> None:
    if bool(tenant.issuer) != bool(tenant.client_id):
        raise ConfigurationError(
            f"give both --issuer and --client-id, or neither (the default {what})"
        )
    registrations.check_tenant(tenant)
    if not tenant.is_default:
        with ports.storage.transaction() as tx:
            registrations.require_registration(tx, tenant)


def set_lrs(
    ports: Ports,
    endpoint: str,
    username: str,
    password: str,
    tenant: Tenant = Tenant.DEFAULT,
    actor: AdminActor = COMMAND_LINE,
) -> LrsConnectionRecord:
    """The default LRS, or one registration's; the password is stored encrypted."""
    registrations.require_text("endpoint", endpoint, registrations.URL_LENGTH - 1)
    actor.require(tenant)
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"endpoint must be an absolute http(s) URL, got {endpoint!r}")
    if not username:
        raise ConfigurationError("username must not be empty")
    registrations.require_text("username", username, IDENTIFIER_LENGTH)
    registrations.require_text("password", password, None)
    _check_tenant(ports, tenant, "LRS")
    endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    with ports.storage.transaction() as tx:
        saved = tx.lrs.save(
            tenant, endpoint, username, ports.box.encrypt(password.encode()), ports.now()
        )
        record(tx, ports, actor, tenant, "lrs.set", f"LRS {endpoint} as user {username}")
        return saved


def set_identity(
    ports: Ports,
    tenant: Tenant,
    mode: str,
    home_page: str | None = None,
    account_names: Mapping[str, str] | None = None,
    actor: AdminActor = COMMAND_LINE,
) -> None:
    """How one registration's learners are named in xAPI, read and written (validated).
    Emails kept for mailbox naming are dropped when another mode is chosen."""
    registrations.check_tenant(tenant)
    actor.require(tenant)
    with ports.storage.transaction() as tx:
        if tx.registrations.find(tenant) is None:
            raise UnknownRegistration(
                f"no platform is registered as issuer={tenant.issuer} client_id={tenant.client_id}"
            )
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    chosen = MODES[mode]
    if chosen is IdentityMode.MAPPED_ACCOUNT:
        parts = urlsplit(home_page or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError("mapped_account needs --home-page, an absolute http(s) URL")
    elif home_page or account_names:
        raise ConfigurationError(
            f"--home-page and --mapping only go with mapped_account, not {mode}"
        )
    names = dict(account_names or {})
    for sub, name in names.items():
        if not sub or not name:
            raise ConfigurationError("every mapping row needs an LTI sub and an account name")
        registrations.require_text("a mapped sub", sub, IDENTIFIER_LENGTH)
        registrations.require_text("a mapped account name", name, IDENTIFIER_LENGTH)
    if home_page:
        registrations.require_text("home page", home_page, registrations.URL_LENGTH)
    stored = (
        None
        if chosen is IdentityMode.ACCOUNT
        else {"mode": chosen.value, "home_page": home_page, "account_names": names}
    )
    with ports.storage.transaction() as tx:
        tx.registrations.set_identity(tenant, stored)
        record(tx, ports, actor, tenant, "lrs.identity", f"learners named by {chosen.value}")
