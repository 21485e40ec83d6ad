"""`skillpath platform ...`, `skillpath deployment add`, `skillpath keys rotate`."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.cli.support import opened
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin


@click.group()
def platform() -> None:
    """Register LMS platforms (issuer + client id)."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss) as it sends it.")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
@click.option("--keyset-url", required=True, help="The platform's public JWKS URL.")
@click.option(
    "--auth-audience", default=None, help="Audience for token requests, if not the token URL."
)
@click.option("--deployment", "deployments", multiple=True, help="A deployment id (repeatable).")
@click.option("--name", default="", help="A name for people.")
def platform_add(**options: Any) -> None:
    """Register a platform."""
    with opened() as container:
        row = admin.register_platform(container, RegistrationInput(**options))
    click.echo(
        f"registered {row.issuer} (client id {row.client_id}) with "
        f"{len(row.deployments)} deployment(s)"
    )


@platform.command("list")
def platform_list() -> None:
    """List registered platforms and their deployments."""
    with opened() as container:
        rows = admin.list_platforms(container)
    if not rows:
        click.echo("no platforms registered")
    for row in rows:
        deployments = ", ".join(row.deployments) or "none"
        click.echo(
            f"{row.name}\n  issuer: {row.issuer}\n  client id: {row.client_id}"
            f"\n  login: {row.auth_login_url}\n  token: {row.auth_token_url}"
            f"\n  keyset: {row.keyset_url}\n  deployments: {deployments}"
        )


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platform_remove(issuer: str, client_id: str) -> None:
    """Remove a platform registration and its deployments; its sessions end at once."""
    with opened() as container:
        admin.remove_platform(container, Tenant(issuer, client_id))
    click.echo(f"removed {issuer} (client id {client_id})")


@click.group()
def deployment() -> None:
    """Deployments of a registered platform."""


@deployment.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", required=True)
def deployment_add(issuer: str, client_id: str, deployment_id: str) -> None:
    """Add a deployment id to a registered platform."""
    with opened() as container:
        admin.add_deployment(container, Tenant(issuer, client_id), deployment_id)
    click.echo(f"added deployment {deployment_id} to {issuer} (client id {client_id})")


@click.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Sign with a new key; the old one stays published until tokens signed with it expire."""
    with opened() as container:
        key = container.rotate_keys()
        hours = container.settings.key_retention_hours
    click.echo(f"new signing key {key.kid}; retired keys stay in the JWKS for {hours} hours")
