"""The public API is declared, documented, and the package stays pure."""

from __future__ import annotations

import ast
import pathlib

import recommender

FORBIDDEN = {
    "flask",
    "sqlalchemy",
    "requests",
    "redis",
    "httpx",
    "urllib3",
    "aiohttp",
    "http",
    "marshmallow",
    "pylti1p3",
    "lti_tool",
    "xapi",
    "adapters",
    "socket",
}
ALLOWED_THIRD_PARTY = {"numpy", "fsrs"}


def test_every_exported_name_exists_and_is_documented() -> None:
    doc = recommender.__doc__ or ""
    for name in recommender.__all__:
        assert hasattr(recommender, name), name
        assert f"`{name}" in doc or name in doc, f"{name} is not documented in the docstring"


def test_no_module_imports_a_framework_or_http_client() -> None:
    root = pathlib.Path(recommender.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in FORBIDDEN, f"{path.name} imports {name}"


def test_every_module_says_what_it_is_for() -> None:
    root = pathlib.Path(recommender.__file__).parent
    for path in root.rglob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text())), path.name
