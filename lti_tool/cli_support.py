"""What every `skillpath` command shares: the services opened from the environment, and
the check that `skillpath init` has run. Bad input ends as one clear line (ClickException)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from config import Settings, SettingsError
from lti_tool.errors import SkillpathError
from lti_tool.services import Services, resolve_settings


def _flask_instance_path() -> str:
    """The instance folder the app would use, so the CLI and the app share a database."""
    from flask import Flask

    return Flask("lti_tool.app", instance_relative_config=True).instance_path


@contextmanager
def opened_services(ctx: click.Context) -> Iterator[Services]:
    try:
        settings = resolve_settings(Settings.from_env(), _flask_instance_path())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    services = Services.build(settings)
    try:
        yield services
    except SkillpathError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        services.close()


def require_schema(services: Services) -> None:
    if not services.database.is_current():
        raise click.ClickException("the database is not initialised: run `skillpath init` first")
