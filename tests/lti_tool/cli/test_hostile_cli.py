"""The command line meets what an attacker or a tired operator gives it: catalogs that are
huge, endless, deeply nested or hold text no database keeps, a 10,000-character issuer,
arguments that are not valid Unicode, a database that does not answer. Each ends as one
clear line and a non-zero exit, without a traceback, and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.lti_tool.cli.test_cli import PLATFORM
from tests.lti_tool.usecases.test_learner_path import EXAMPLE

NESTED: Any = 1
for _ in range(40):
    NESTED = [NESTED]
SKILLPATH = str(Path(sys.executable).with_name("skillpath"))


def one_clear_line(result: Any) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    return str(result.output)


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def write(tmp_path: Path, document: Any, name: str = "catalog.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def nothing_imported(cli: Any) -> None:
    assert "imported catalog" in cli("catalog", "import", str(EXAMPLE)).output


@pytest.mark.parametrize(
    ("where", "value", "says"),
    [
        (("lessons", 0, "title"), "Tone \ud800 and clarity", "lessons[0].title: holds a lone surrogate"),
        (("competencies", 0, "name"), "Basics\x00", "competencies[0].name: holds a NUL character"),
        (("lessons", 1, "id"), "https://l.example/" + "x" * 1000, "lessons[1].id: is longer than 1000"),
        (("lessons", 0, "url"), "https://l.example/" + "u" * 2100, "lessons[0].url: is longer than 2000"),
        (("lessons", 0, "duration_minutes"), 1e300, "lessons[0].duration_minutes"),
        (("lessons", 0, "duration_minutes"), 10**400, "lessons[0].duration_minutes"),
        (("lessons", 0, "extra_field"), {"deep": NESTED}, "nested more than"),
    ],
)  # fmt: skip
def test_a_catalog_with_text_or_numbers_no_page_can_take_is_refused(
    cli: Any, tmp_path: Path, where: tuple[Any, ...], value: Any, says: str
) -> None:
    cli("init")
    document = example()
    target = document
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    output = one_clear_line(cli("catalog", "import", write(tmp_path, document)))
    assert "the catalog was not imported" in output and says in output, output
    nothing_imported(cli)


def test_due_days_beyond_any_calendar_are_refused(cli: Any, tmp_path: Path) -> None:
    cli("init")
    document = example()
    pathway = document["pathways"][0]
    pathway["milestones"] = [
        {"id": "m1", "title": "Far", "competencies": ["comm.basics"], "due_days": 10**12}
    ]
    output = one_clear_line(cli("catalog", "import", write(tmp_path, document)))
    assert "pathways[0].milestones[0].due_days" in output


def test_non_finite_numbers_are_not_json(cli: Any, tmp_path: Path) -> None:
    cli("init")
    text = json.dumps(example()).replace('"difficulty": 0.2', '"difficulty": NaN')
    assert "NaN" in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    assert "is not JSON" in one_clear_line(cli("catalog", "import", str(path)))


def test_deeply_nested_json_is_one_clear_line(cli: Any, tmp_path: Path) -> None:
    cli("init")
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    output = one_clear_line(cli("catalog", "import", str(path)))
    assert "nested too deeply" in output


def test_counts_and_size_are_limited_with_the_setting_to_raise_them(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    runner = CliRunner()
    env = dict(cli_env, SKILLPATH_CATALOG_MAX_ITEMS="2")
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    output = one_clear_line(runner.invoke(main, ["catalog", "import", str(EXAMPLE)], env=env))
    assert "lessons: has 3 items, more than 2 (SKILLPATH_CATALOG_MAX_ITEMS)" in output

    env = dict(cli_env, SKILLPATH_CATALOG_MAX_BYTES="1000")
    output = one_clear_line(runner.invoke(main, ["catalog", "import", str(EXAMPLE)], env=env))
    assert "larger than 1000 bytes (SKILLPATH_CATALOG_MAX_BYTES)" in output
    assert runner.invoke(main, ["catalog", "import", str(EXAMPLE)], env=cli_env).exit_code == 0


def test_an_endless_file_is_refused_at_once(cli_env: dict[str, str]) -> None:
    env = {**os.environ, **cli_env}
    subprocess.run([SKILLPATH, "init"], env=env, check=True, capture_output=True, timeout=60)
    started = time.monotonic()
    done = subprocess.run(
        [SKILLPATH, "catalog", "import", "/dev/zero"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 20
    assert done.returncode == 1
    assert "larger than" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("--issuer", "https://" + "i" * 10_000), "issuer is longer than 500 characters"),
        (("--client-id", "c\x00"), "client id holds a NUL character"),
        (("--name", "Our \udcff LMS"), "name holds a lone surrogate"),
        (("--deployment", "d" * 501), "deployment id is longer than 500 characters"),
        (("--keyset-url", "https://lms.example.edu/" + "k" * 1000), "keyset-url is longer"),
    ],
)
def test_platform_values_that_cannot_be_kept_are_refused(
    cli: Any, change: tuple[str, str], says: str
) -> None:
    cli("init")
    args = list(PLATFORM)
    option, value = change
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    assert says in one_clear_line(cli(*args))
    assert "no platforms registered" in cli("platform", "list").output


def test_tenant_options_that_cannot_be_kept_are_refused(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init")
    tenant = ["--issuer", "https://lms\x00.example", "--client-id", "c"]
    assert "issuer holds a NUL" in one_clear_line(cli("catalog", "import", str(EXAMPLE), *tenant))
    lrs = ["lrs", "set", "--endpoint", "https://lrs.example/xapi/", "--username", "u"]
    monkeypatch.setenv("SKILLPATH_LRS_SET_PASSWORD", "p\udcff")
    assert "password holds a lone surrogate" in one_clear_line(cli(*lrs))
    assert "issuer holds a NUL" in one_clear_line(cli("platform", "remove", *tenant))


def test_an_unreachable_database_is_one_line_without_its_password(
    cli_env: dict[str, str],
) -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    env = dict(
        cli_env, SKILLPATH_DATABASE_URL="postgresql+psycopg://skillpath:hunter2@127.0.0.1:1/none"
    )
    for command in (["platform", "list"], ["init"]):
        result = CliRunner().invoke(main, command, env=env)
        output = one_clear_line(result)
        assert "cannot reach the database" in output and "127.0.0.1:1" in output
        assert "hunter2" not in output
