"""`skillpath catalog import`: validates with the engine, names the JSON path, imports
nothing on error, and is idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from config import Settings
from tests.lti_tool.usecases.test_learner_path import EXAMPLE


def test_import_twice_then_change(cli: Any, tmp_path: Path) -> None:
    cli("init")
    first = cli("catalog", "import", str(EXAMPLE))
    assert first.exit_code == 0, first.output
    assert "imported catalog with 2 competencies, 3 lessons, 1 pathways" in first.output
    assert "unchanged" in cli("catalog", "import", str(EXAMPLE)).output
    changed = json.loads(EXAMPLE.read_text())
    changed["lessons"][0]["title"] = "Tone, clarity and empathy"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    assert "updated catalog" in cli("catalog", "import", str(path)).output


def test_bad_catalog_names_the_json_path_and_imports_nothing(cli: Any, tmp_path: Path) -> None:
    cli("init")
    bad = json.loads(EXAMPLE.read_text())
    bad["lessons"][1]["competencies"][0]["id"] = "comm.escalaton"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = cli("catalog", "import", str(path))
    assert result.exit_code == 1
    assert 'lessons[1].competencies[0].id: unknown competency "comm.escalaton"' in result.output
    # nothing was imported: a later good import is a first import
    assert "imported catalog" in cli("catalog", "import", str(EXAMPLE)).output


def test_not_json_and_missing_file(cli: Any, tmp_path: Path) -> None:
    cli("init")
    path = tmp_path / "x.json"
    path.write_text("{nope")
    assert "is not JSON" in cli("catalog", "import", str(path)).output
    assert "cannot read" in cli("catalog", "import", str(tmp_path / "missing.json")).output


def test_tenant_catalog_needs_issuer_and_client_id(cli: Any) -> None:
    cli("init")
    result = cli("catalog", "import", str(EXAMPLE), "--issuer", "https://lms.example")
    assert result.exit_code == 1 and "both --issuer and --client-id" in result.output


def stored_lrs_password(settings: Settings) -> str:
    from lti_tool.container import Container
    from lti_tool.storage import Tenant

    container = Container.build(settings)
    try:
        with container.storage.transaction() as tx:
            found = tx.lrs.for_tenant(Tenant.DEFAULT)
        assert found is not None
        return container.box.decrypt(found.password_encrypted).decode()
    finally:
        container.close()


def test_lrs_set_reads_the_password_from_a_prompt_stdin_or_the_environment(
    cli: Any, cli_env: dict[str, str], settings: Settings
) -> None:
    from lti_tool.cli import main

    cli("init")
    runner = CliRunner()
    lrs = ["lrs", "set", "--endpoint", "https://lrs.example.org/xapi", "--username", "u"]

    def run(*extra: str, input: str | None = None, **env: str) -> Any:
        return runner.invoke(main, [*lrs, *extra], input=input, env=cli_env | env)

    # By default a hidden prompt, typed twice; the password is never echoed.
    prompted = run(input="typed-s3cret\ntyped-s3cret\n")
    assert prompted.exit_code == 0 and "(default)" in prompted.output, prompted.output
    assert "Password" in prompted.output and "typed-s3cret" not in prompted.output
    assert stored_lrs_password(settings) == "typed-s3cret"
    mismatch = run(input="first-s3cret\nother-s3cret\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    assert "first-s3cret" not in mismatch.output and "other-s3cret" not in mismatch.output
    assert stored_lrs_password(settings) == "typed-s3cret"

    piped = run("--password-stdin", input="piped-s3cret\n")
    assert piped.exit_code == 0 and "piped-s3cret" not in piped.output, piped.output
    assert stored_lrs_password(settings) == "piped-s3cret"

    from_env = run(SKILLPATH_LRS_SET_PASSWORD="env-s3cret")
    assert from_env.exit_code == 0 and "env-s3cret" not in from_env.output, from_env.output
    assert "warning" not in from_env.output and "Password" not in from_env.output
    assert stored_lrs_password(settings) == "env-s3cret"
    # --password-stdin wins over the environment.
    assert (
        run("--password-stdin", input="p2-s3cret\n", SKILLPATH_LRS_SET_PASSWORD="x").exit_code == 0
    )
    assert stored_lrs_password(settings) == "p2-s3cret"

    # The environment's default LRS (SKILLPATH_LRS_PASSWORD) is not this command's password.
    other = run(input="own-s3cret\nown-s3cret\n", SKILLPATH_LRS_PASSWORD="default-lrs")
    assert other.exit_code == 0 and stored_lrs_password(settings) == "own-s3cret"

    # On the command line it still works, with a warning on stderr.
    argued = run("--password", "argued-s3cret")
    assert argued.exit_code == 0 and "argued-s3cret" not in argued.output
    assert "shows in process lists and shell history" in argued.stderr
    assert "warning" not in argued.stdout
    assert stored_lrs_password(settings) == "argued-s3cret"
    both = run("--password", "x", "--password-stdin", input="y\n")
    assert both.exit_code == 2 and "choose one" in both.output

    bad = runner.invoke(
        main, ["lrs", "set", "--endpoint", "lrs", "--username", "u", "--password-stdin"],
        input="p\n", env=cli_env,
    )  # fmt: skip
    assert bad.exit_code == 1 and "absolute http(s) URL" in bad.output
