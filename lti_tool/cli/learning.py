"""`skillpath catalog import`, `skillpath lrs set|identity`, `skillpath sync`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from lti_tool.cli.support import opened, read_mapping, read_password
from lti_tool.storage import Tenant
from lti_tool.usecases import admin
from lti_tool.usecases.evidence_sync import sync_all
from lti_tool.usecases.learner_refresh import catch_up

# Where automation gives `skillpath lrs set` the LRS password (never on the command line).
# Not SKILLPATH_LRS_PASSWORD: that one is the environment's default LRS (with
# SKILLPATH_LRS_ENDPOINT), and an environment file loaded for the command would silently
# give its password to another registration's LRS.
PASSWORD_ENV = "SKILLPATH_LRS_SET_PASSWORD"


@click.group()
def catalog() -> None:
    """Catalogs of competencies, lessons and pathways."""


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--issuer", default="", help="Tenant issuer (default: the catalog for everyone).")
@click.option("--client-id", default="", help="Tenant client id (with --issuer).")
def catalog_import(file: Path, issuer: str, client_id: str) -> None:
    """Import or update a catalog (JSON, format skillpath-catalog/1)."""
    with opened() as container:
        # At most one byte more than the limit is read: an endless file ends here.
        limit = container.settings.catalog_max_bytes
        try:
            with file.open("rb") as handle:
                raw = handle.read(limit + 1)
        except OSError as exc:
            raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
        result = admin.import_catalog_file(container, raw, Tenant(issuer, client_id))
    what = "imported" if result.created else ("updated" if result.changed else "unchanged:")
    click.echo(
        f"{what} catalog with {result.competencies} competencies, {result.lessons} lessons, "
        f"{result.pathways} pathways" + (f" for {issuer} ({client_id})" if issuer else "")
    )


@click.group()
def lrs() -> None:
    """The Learning Record Store Skillpath reads and writes."""


@lrs.command("set")
@click.option(
    "--endpoint", required=True, help="The LRS's xAPI endpoint, e.g. https://lrs.example.org/xapi/"
)
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--password",
    envvar=PASSWORD_ENV,
    show_envvar=True,
    default=None,
    help="Prefer the prompt, --password-stdin or the environment variable: a password given "
    "here shows in process lists and shell history.",
)
@click.option("--issuer", default="", help="Only for this registration (with --client-id).")
@click.option("--client-id", default="")
def lrs_set(
    endpoint: str,
    username: str,
    password_stdin: bool,
    password: str | None,
    issuer: str,
    client_id: str,
) -> None:
    """Set the default LRS, or one registration's LRS. The password (stored encrypted with
    the secret key) is typed at a prompt, read from standard input with --password-stdin, or
    taken from SKILLPATH_LRS_SET_PASSWORD."""
    password = read_password(password_stdin, password)
    with opened() as container:
        admin.set_lrs(container, endpoint, username, password, Tenant(issuer, client_id))
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
def lrs_identity(
    issuer: str, client_id: str, mode: str, home_page: str | None, mapping: str | None
) -> None:
    """How a registration's learners are named in xAPI statements (read and written)."""
    names = read_mapping(mapping) if mapping else None
    with opened() as container:
        admin.set_identity(container, Tenant(issuer, client_id), mode, home_page, names)
    extra = f" on {home_page}, {len(names or {})} mapped" if home_page else ""
    click.echo(f"learners of {issuer} ({client_id}) are named by {mode}{extra}")


@click.command()
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 86400))
def sync(once: bool, interval: int) -> None:
    """Pull new statements from every connected LRS into learners' evidence. Each LRS is
    synced on its own; with --once the exit status is non-zero when any of them failed."""
    with opened() as container:
        while True:
            reports = sync_all(container)
            for report in reports:
                line = (
                    f"{report.endpoint}: read {report.read}, filed {report.filed}, "
                    f"voided {report.voided}, skipped malformed {report.skipped_malformed}"
                )
                if report.error:
                    line += f"; stopped: {report.error} (resumes from its last page)"
                click.echo(line, err=bool(report.error))
            # The learners whose evidence moved: states brought up to date, views stored.
            updated = catch_up(container) if reports else 0
            if updated:
                click.echo(f"learner states brought up to date: {updated}")
            if once:
                if not reports:
                    click.echo("no LRS is connected: `skillpath lrs set` first")
                failed = [r.endpoint for r in reports if r.error]
                if failed:
                    raise click.ClickException(
                        f"sync failed for {len(failed)} of {len(reports)} LRS: {', '.join(failed)}"
                    )
                return
            time.sleep(interval)
