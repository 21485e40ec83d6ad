"""The `skillpath` command line. Each command parses, calls one use case, prints.

Bad input exits non-zero with one clear line and changes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from lti_tool.cli_support import opened_services, read_mapping, require_schema
from xapi.errors import XapiError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Skillpath: adaptive learning paths inside any LTI 1.3 LMS."""


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database and create the tool key if there is none."""
    with opened_services(ctx) as services:
        created = services.initialise()
        click.echo("database is at the newest schema")
        click.echo("created the tool's signing key" if created else "the tool's signing key exists")


@main.group()
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
@click.pass_context
def platform_add(ctx: click.Context, **options: Any) -> None:
    """Register a platform."""
    from lti_tool.registrations import RegistrationInput, add_registration

    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            row = add_registration(session, RegistrationInput(**options))
            click.echo(
                f"registered {row.issuer} (client id {row.client_id}) with "
                f"{len(row.deployments)} deployment(s)"
            )


@platform.command("list")
@click.pass_context
def platform_list(ctx: click.Context) -> None:
    """List registered platforms and their deployments."""
    from lti_tool.registrations import list_registrations

    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            rows = list_registrations(session)
            if not rows:
                click.echo("no platforms registered")
            for row in rows:
                deployments = ", ".join(d.deployment_id for d in row.deployments) or "none"
                click.echo(
                    f"{row.name}\n  issuer: {row.issuer}\n  client id: {row.client_id}"
                    f"\n  login: {row.auth_login_url}\n  token: {row.auth_token_url}"
                    f"\n  keyset: {row.keyset_url}\n  deployments: {deployments}"
                )


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.pass_context
def platform_remove(ctx: click.Context, issuer: str, client_id: str) -> None:
    """Remove a platform registration and its deployments."""
    from lti_tool.registrations import remove_registration

    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            remove_registration(session, issuer, client_id)
        click.echo(f"removed {issuer} (client id {client_id})")


@main.group()
def deployment() -> None:
    """Deployments of a registered platform."""


@deployment.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", required=True)
@click.pass_context
def deployment_add(ctx: click.Context, issuer: str, client_id: str, deployment_id: str) -> None:
    """Add a deployment id to a registered platform."""
    from lti_tool.registrations import add_deployment

    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            add_deployment(session, issuer, client_id, deployment_id)
        click.echo(f"added deployment {deployment_id} to {issuer} (client id {client_id})")


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Sign with a new key; the old one stays published until tokens signed with it expire."""
    with opened_services(ctx) as services:
        require_schema(services)
        key = services.rotate_keys()
        click.echo(
            f"new signing key {key.kid}; retired keys stay in the JWKS for "
            f"{services.settings.key_retention_hours} hours"
        )


@main.group()
def catalog() -> None:
    """Catalogs of competencies, lessons and pathways."""


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--issuer", default="", help="Tenant issuer (default: the catalog for everyone).")
@click.option("--client-id", default="", help="Tenant client id (with --issuer).")
@click.pass_context
def catalog_import(ctx: click.Context, file: Path, issuer: str, client_id: str) -> None:
    """Import or update a catalog (JSON, format skillpath-catalog/1)."""
    from lti_tool.learning.catalogs import import_catalog

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file} is not JSON: {exc}") from None
    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            result = import_catalog(session, document, issuer, client_id)
        what = "imported" if result.created else ("updated" if result.changed else "unchanged:")
        click.echo(
            f"{what} catalog with {result.competencies} competencies, {result.lessons} lessons, "
            f"{result.pathways} pathways" + (f" for {issuer} ({client_id})" if issuer else "")
        )


@main.group()
def lrs() -> None:
    """The Learning Record Store Skillpath reads and writes."""


@lrs.command("set")
@click.option(
    "--endpoint", required=True, help="The LRS's xAPI endpoint, e.g. https://lrs.example.org/xapi/"
)
@click.option("--username", required=True)
@click.option("--password", required=True, help="Stored encrypted with the secret key.")
@click.option("--issuer", default="", help="Only for this registration (with --client-id).")
@click.option("--client-id", default="")
@click.pass_context
def lrs_set(
    ctx: click.Context, endpoint: str, username: str, password: str, issuer: str, client_id: str
) -> None:
    """Set the default LRS, or one registration's LRS."""
    from lti_tool.learning.lrs_connections import set_lrs

    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            set_lrs(session, services.box, endpoint, username, password, issuer, client_id)
        click.echo(
            f"LRS set to {endpoint}" + (f" for {issuer} ({client_id})" if issuer else " (default)")
        )


@lrs.command("identity")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option(
    "--mode",
    required=True,
    type=click.Choice(["account", "mbox", "mapped_account"]),
    help="account: {homePage: issuer, name: LTI sub} (the default); mbox: the LTI email; "
    "mapped_account: an account on --home-page named through --mapping.",
)
@click.option("--home-page", default=None, help="The other system's homePage (mapped_account).")
@click.option(
    "--mapping",
    default=None,
    type=click.Path(dir_okay=False),
    help="CSV file with the columns sub,account_name (mapped_account).",
)
@click.pass_context
def lrs_identity(
    ctx: click.Context,
    issuer: str,
    client_id: str,
    mode: str,
    home_page: str | None,
    mapping: str | None,
) -> None:
    """How a registration's learners are named in xAPI statements (read and written)."""
    from lti_tool.learning.identity import set_identity

    names = read_mapping(mapping) if mapping else None
    with opened_services(ctx) as services:
        require_schema(services)
        with services.database.session() as session:
            set_identity(session, issuer, client_id, mode, home_page, names)
        extra = f" on {home_page}, {len(names or {})} mapped" if home_page else ""
        click.echo(f"learners of {issuer} ({client_id}) are named by {mode}{extra}")


@main.command()
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 86400))
@click.pass_context
def sync(ctx: click.Context, once: bool, interval: int) -> None:
    """Pull new statements from every connected LRS into learners' evidence."""
    import time

    from lti_tool.learning.lrs_evidence import LrsGateway
    from lti_tool.learning.sync import sync_all

    with opened_services(ctx) as services:
        require_schema(services)
        gateway = LrsGateway(services)
        while True:
            try:
                reports = sync_all(services, gateway)
            except XapiError as exc:
                if once:
                    raise click.ClickException(f"sync failed: {exc}") from None
                click.echo(f"sync failed, will retry: {exc}", err=True)
                reports = []
            for report in reports:
                click.echo(
                    f"{report.endpoint}: read {report.read}, filed {report.filed}, "
                    f"voided {report.voided}, skipped malformed {report.skipped_malformed}"
                )
            if once:
                if not reports:
                    click.echo("no LRS is connected: `skillpath lrs set` first")
                return
            time.sleep(interval)


@main.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
def serve(bind: str, workers: int, threads: int) -> None:
    """Run the production server (gunicorn, threaded workers)."""
    from lti_tool.server import run_gunicorn

    run_gunicorn(bind=bind, workers=workers, threads=threads)


@main.command()
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--lms-port", default=5001, show_default=True, type=click.IntRange(1, 65535))
def demo(port: int, lms_port: int) -> None:
    """Start Skillpath and a demo LMS on 127.0.0.1, registered with each other."""
    from lti_tool.demo import run_demo

    run_demo(port=port, lms_port=lms_port)


from lti_tool import cli_outbox  # noqa: E402 - its commands attach to `main`

cli_outbox.register(main)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
