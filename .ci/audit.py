"""pip-audit on the installed dependencies (CI): fails on a known vulnerability, and says
plainly how many packages could be audited. pip-audit asks PyPI's JSON API for the advisories
of each installed version. Where that per-version API does not answer (from the CI machine it
answers 404 while the per-project one answers), a package whose installed version is its latest
release is audited from the per-project document, whose `vulnerabilities` are the latest
release's; any other is reported as not audited, and this script says so rather than "no
vulnerabilities".
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import requests

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _latest_release_audit(name: str, version: str) -> list[dict[str, Any]] | None:
    """The advisories of `name` when `version` is its latest release (from the per-project
    JSON), else None: not audited."""
    try:
        answer = requests.get(PROJECT_JSON.format(name=name), timeout=15)
        if answer.status_code != 200:
            return None
        document = answer.json()
    except (requests.RequestException, ValueError):
        return None
    if document.get("info", {}).get("version") != version:
        return None
    found = document.get("vulnerabilities") or []
    return [
        {"id": v.get("id", "?"), "fix_versions": v.get("fixed_in") or []}
        for v in found
        if not v.get("withdrawn")
    ]


def main() -> int:
    done = subprocess.run(
        [str(PIP_AUDIT), "--skip-editable", "--progress-spinner", "off", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(f"pip-audit did not run: {done.stderr.strip()[:500]}", file=sys.stderr)
        return 1
    # Skillpath itself (installed editable) is the project, not a dependency.
    dependencies = [d for d in report.get("dependencies", []) if d["name"] != "skillpath"]
    installed = {_normal(d.metadata["Name"]): d.version for d in distributions()}
    waiting = [d for d in dependencies if d.get("skip_reason") and _normal(d["name"]) in installed]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(
            lambda d: _latest_release_audit(d["name"], installed[_normal(d["name"])]), waiting
        )
        for dependency, vulns in zip(waiting, answers, strict=True):
            if vulns is not None:
                dependency.pop("skip_reason")
                dependency["version"] = installed[_normal(dependency["name"])]
                dependency["vulns"] = vulns
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixed})"
            )
    print(
        f"pip-audit: {audited} installed packages audited, {len(vulnerable)} with known "
        f"vulnerabilities; {len(skipped)} could not be audited"
        + (
            " (PyPI's advisory API did not answer for them and they are not their latest release)"
            if skipped
            else ""
        )
    )
    if skipped:
        print("not audited: " + ", ".join(sorted(d["name"] for d in skipped)))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
