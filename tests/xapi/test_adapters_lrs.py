"""The LRS adapter registry (`adapters.lrs`); the adapters' behaviour against the real LRSs is
in test_sync_peers.py."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from adapters.lrs import LRS_ADAPTERS, LearningLockerPaging, RalphPaging, adapter_for
from xapi.sync import StandardPaging


def test_known_names_pick_their_adapter() -> None:
    assert isinstance(adapter_for("learning-locker"), LearningLockerPaging)
    assert isinstance(adapter_for("ralph"), RalphPaging)
    assert set(LRS_ADAPTERS) == {"standard", "learning-locker", "ralph"}


def test_unknown_name_falls_back_to_standard_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="adapters.lrs"):
        adapter = adapter_for("veracity")
    assert type(adapter) is StandardPaging
    assert "veracity" in caplog.text


def test_xapi_never_imports_the_web_stack_or_adapters() -> None:
    package = Path(__file__).resolve().parents[2] / "xapi"
    forbidden = {"flask", "sqlalchemy", "lti_tool", "adapters"}
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{module.name} imports {name}"
