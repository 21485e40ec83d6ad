"""`skillpath catalog import`: validates with the engine, names the JSON path, imports
nothing on error, and is idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_lrs_set(cli: Any) -> None:
    cli("init")
    ok = cli(
        "lrs",
        "set",
        "--endpoint",
        "https://lrs.example.org/xapi",
        "--username",
        "u",
        "--password",
        "s3cret",
    )
    assert ok.exit_code == 0 and "(default)" in ok.output and "s3cret" not in ok.output
    bad = cli("lrs", "set", "--endpoint", "lrs", "--username", "u", "--password", "p")
    assert bad.exit_code == 1 and "absolute http(s) URL" in bad.output
