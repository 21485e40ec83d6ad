"""What every `skillpath` command shares: the container opened from the environment, the
check that `skillpath init` has run, and how a password is read (never echoed, never needed
on the command line). Bad input ends as one clear line (ClickException)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from click.core import ParameterSource

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


def read_password(from_stdin: bool, given: str | None = None, option: str = "password") -> str:
    """A password for a command: one line of standard input with `--password-stdin`, else
    `given` (the value of the command's `option`, which click fills from its environment
    variable, e.g. SKILLPATH_LRS_SET_PASSWORD), else typed twice at a hidden prompt. A password
    given on the command line itself works but is warned about on stderr: process lists and
    shell history keep it."""
    source = click.get_current_context().get_parameter_source(option.replace("-", "_"))
    on_command_line = given is not None and source is ParameterSource.COMMANDLINE
    if from_stdin:
        if on_command_line:
            raise click.UsageError(f"--{option} and --{option}-stdin: choose one")
        return sys.stdin.readline().rstrip("\r\n")
    if given is not None:
        if on_command_line:
            click.echo(
                f"warning: --{option} shows in process lists and shell history; type it at the "
                f"prompt, or use --{option}-stdin or the environment variable instead",
                err=True,
            )
        return given
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value
