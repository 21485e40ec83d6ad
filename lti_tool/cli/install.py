"""`skillpath install-info`: the values each LMS asks for, in its own words (what `/install`
shows), or Canvas's developer key JSON."""

from __future__ import annotations

import json

import click

from lti_tool.cli.support import opened
from lti_tool.usecases.install_info import canvas_configuration, endpoints, guides


@click.command("install-info")
@click.option("--lms", default=None, help="moodle, canvas, brightspace, blackboard or openedx.")
@click.option("--canvas-json", is_flag=True, help="Print Canvas's developer key JSON instead.")
@click.option(
    "--privacy",
    default=None,
    help="Canvas privacy level for --canvas-json: anonymous, name_only, email_only or public.",
)
def install_info(lms: str | None, canvas_json: bool, privacy: str | None) -> None:
    """What to type into your LMS to install Skillpath by hand."""
    with opened(needs_schema=False) as container:
        if canvas_json:
            click.echo(json.dumps(canvas_configuration(container, privacy), indent=2))
            return
        if privacy is not None:
            raise click.ClickException("--privacy goes with --canvas-json")
        chosen = guides(container, lms)
        tool = endpoints(container)
    click.echo(f"Registration URL (LTI Dynamic Registration): {tool.registration_url}")
    for guide in chosen:
        click.echo(f"\n== {guide.name} ==")
        if guide.dynamic_registration:
            click.echo(f"Dynamic Registration: {guide.dynamic_registration}")
        else:
            click.echo(f"Dynamic Registration: not offered by {guide.name}; install by hand.")
        for number, step in enumerate(guide.steps, 1):
            click.echo(f"\n{number}. {step.title}\n   ({step.where})")
            for field in step.fields:
                note = f"  ({field.note})" if field.note else ""
                click.echo(f"   {field.label}: {field.value}{note}")
            for text in step.notes:
                click.echo(f"   {text}")
        click.echo(f"\nThen give Skillpath {guide.name}'s values (`skillpath platform add`):")
        for field in guide.paste_back:
            note = f"  ({field.note})" if field.note else ""
            click.echo(f"   {field.label} -> {field.value}{note}")
