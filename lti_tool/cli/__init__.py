"""The `skillpath` command line. Each command parses, calls one use case, prints.

Bad input exits non-zero with one clear line and changes nothing.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from lti_tool.cli.admins import admin
from lti_tool.cli.install import install_info
from lti_tool.cli.learning import catalog, lrs, sync
from lti_tool.cli.model import fit
from lti_tool.cli.outbox import outbox, worker
from lti_tool.cli.platforms import deployment, keys, platform
from lti_tool.cli.serve import demo, serve
from lti_tool.cli.support import opened

log = logging.getLogger("skillpath.cli")


class SkillpathGroup(click.Group):
    """The last guard of "one clear line, never a traceback": what no command expected is
    said in one line (the traceback goes to the log at DEBUG)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except RecursionError:
            raise click.ClickException("the input is nested too deeply") from None
        except Exception as exc:
            log.debug("unexpected error in a command", exc_info=True)
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise click.ClickException(
                f"unexpected error ({type(exc).__name__}){': ' + first if first else ''}; "
                "SKILLPATH_LOG_LEVEL=DEBUG logs the details"
            ) from None


@click.group(cls=SkillpathGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Skillpath: adaptive learning paths inside any LTI 1.3 LMS."""


@main.command()
def init() -> None:
    """Create or upgrade the database and create the tool key if there is none."""
    with opened(needs_schema=False) as container:
        created = container.initialise()
    click.echo("database is at the newest schema")
    click.echo("created the tool's signing key" if created else "the tool's signing key exists")


for command in (
    platform,
    deployment,
    keys,
    catalog,
    lrs,
    sync,
    fit,
    worker,
    outbox,
    serve,
    demo,
    install_info,
    admin,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
