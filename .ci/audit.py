"""pip-audit on the installed dependencies (CI): fails on a known vulnerability, and says
plainly how many packages could be audited. pip-audit asks PyPI's JSON API for advisories;
where that API cannot be reached (a package mirror serves only the simple index), each
package is reported as not audited, and this script says so rather than "no vulnerabilities".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


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
    dependencies = report.get("dependencies", [])
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
        + (" (PyPI's advisory API did not answer for them)" if skipped else "")
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
