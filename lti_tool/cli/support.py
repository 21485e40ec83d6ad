"""What every `skillpath` command shares: the container opened from the environment, and
the check that `skillpath init` has run. Bad input ends as one clear line (ClickException)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from config import Settings, SettingsError
from lti_tool.container import Container, resolve_settings
from lti_tool.errors import SkillpathError


def _flask_instance_path() -> str:
    """The instance folder the app would use, so the CLI and the app share a database."""
    from flask import Flask

    return Flask("lti_tool.app", instance_relative_config=True).instance_path


def instance_path(settings: Settings) -> str:
    """The instance folder of these settings (the app's default when unset)."""
    return settings.instance_path or _flask_instance_path()


@contextmanager
def opened(*, needs_schema: bool = True) -> Iterator[Container]:
    """The container of one command; `needs_schema` refuses to run before `skillpath init`."""
    try:
        settings = resolve_settings(Settings.from_env(), _flask_instance_path())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    container = Container.build(settings)
    try:
        if needs_schema and not container.storage.is_current():
            raise click.ClickException(
                "the database is not initialised: run `skillpath init` first"
            )
        yield container
    except SkillpathError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        container.close()


def read_mapping(path: str) -> dict[str, str]:
    """sub -> account name from a CSV file with the columns `sub,account_name` (a header row
    is required). Raises a ClickException naming the line of a bad row."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"sub", "account_name"} <= set(reader.fieldnames):
                raise click.ClickException(
                    f"{path}: the first row must name the columns sub,account_name"
                )
            names: dict[str, str] = {}
            for row in reader:
                sub = (row.get("sub") or "").strip()
                name = (row.get("account_name") or "").strip()
                if not sub or not name:
                    raise click.ClickException(
                        f"{path}, line {reader.line_num}: both sub and account_name are needed"
                    )
                if sub in names and names[sub] != name:
                    raise click.ClickException(
                        f"{path}, line {reader.line_num}: sub {sub!r} is mapped twice"
                    )
                names[sub] = name
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{path} is not a UTF-8 CSV file: {exc}") from None
    return names
