"""The built wheel holds every package of the product and the files it needs at run time:
templates, migrations, the xAPI profile and the pages' static files. Nothing of the tests,
the benchmarks or the peers goes in."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_whole_product(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("skillpath-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("lti_tool", "recommender", "xapi", "adapters", "config"):
        for source in (ROOT / package).rglob("*.py"):
            assert str(source.relative_to(ROOT)) in names, source
    for static in (ROOT / "static").rglob("*"):
        if static.is_file():
            assert f"lti_tool/static/{static.relative_to(ROOT / 'static')}" in names, static
    for expected in (
        "lti_tool/web/templates/learner.html",
        "lti_tool/storage/migrations/script.py.mako",
        "lti_tool/storage/migrations/versions/0005_learner_course.py",
        "lti_tool/demo/sample_catalog.json",
        "xapi/profile.jsonld",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("tests/", "benchmarks/", "peers/")) for n in names)
