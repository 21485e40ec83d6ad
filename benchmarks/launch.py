"""Launch benchmark: full OIDC login + launch round trips from the real platform peer
(lti1p3platform), into Skillpath and into a minimal pylti1p3 reference tool, in one run.

    .venv/bin/python -m benchmarks.launch [--launches 300] [--concurrency 8]

Reports launches per second (serial and concurrent) and the tool-side p50/p99 of
/lti/login and /lti/launch, measured inside each tool's WSGI stack (client and platform time
excluded). Everything runs in this process on 127.0.0.1; Skillpath uses SQLite.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from benchmarks.reference_tool import make_reference_app
from benchmarks.timing import PathTimer, percentile
from config import Settings
from lti_tool import create_app
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import free_port


class Served:
    def __init__(self, name: str, wsgi: Any, port: int, login: str, launch: str) -> None:
        self.name, self.port, self.login_path, self.launch_path = name, port, login, launch
        self.timer = PathTimer(wsgi, [login, launch])
        self.server = make_server("127.0.0.1", port, self.timer, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(launches: int, concurrency: int) -> list[dict[str, Any]]:
    platform = PlatformPeer().start()
    work = Path(tempfile.mkdtemp(prefix="skillpath-bench-"))
    results = []
    try:
        # Skillpath, as deployed in embedded mode (SQLite in the instance folder).
        port = free_port()
        settings = Settings(
            base_url=f"http://127.0.0.1:{port}",
            database_url=f"sqlite:///{work / 'bench.sqlite3'}",
            secret_key="benchmark",
            instance_path=str(work),
            log_level="WARNING",
            embedded_worker=False,
        )
        app = create_app(settings, initialise=True)
        admin.register_platform(
            app.extensions["skillpath"],
            RegistrationInput(
                issuer=platform.issuer,
                client_id="skillpath",
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                keyset_url=platform.keyset_url,
                deployments=["d1"],
            ),
        )
        ours = Served("Skillpath", app.wsgi_app, port, "/lti/login", "/lti/launch")
        base = f"http://127.0.0.1:{port}"
        platform.register_tool(
            "skillpath",
            "d1",
            base + "/lti/login",
            base + "/lti/launch",
            base + "/.well-known/jwks.json",
        )
        # The reference tool: pylti1p3 the way its examples are written.
        ref_port = free_port()
        ref_base = f"http://127.0.0.1:{ref_port}"
        platform.register_tool(
            "reference", "d1", ref_base + "/login", ref_base + "/launch", ref_base + "/jwks"
        )
        reference_app = make_reference_app(platform.platform_settings("reference", "d1"))
        reference = Served(
            "pylti1p3 reference", reference_app.wsgi_app, ref_port, "/login", "/launch"
        )
        for served, client_id in ((ours, "skillpath"), (reference, "reference")):
            results.append(measure(served, platform, client_id, launches, concurrency))
        ours.stop()
        reference.stop()
        app.extensions["skillpath"].close()
    finally:
        platform.stop()
    return results


def measure(
    served: Served, platform: PlatformPeer, client_id: str, launches: int, concurrency: int
) -> dict[str, Any]:
    def one(browser: LaunchBrowser) -> None:
        response = browser.launch(
            platform.launch_url(client_id=client_id, roles="learner", name="Ada")
        )
        assert response.status_code == 200, (served.name, response.status_code, response.text[:300])

    # Warm-up: first JWKS fetch, first connection, template compilation.
    warm = LaunchBrowser()
    for _ in range(5):
        one(warm)
    served.timer.reset()

    started = time.perf_counter()
    for _ in range(launches):
        one(warm)
    serial_rate = launches / (time.perf_counter() - started)
    login = list(served.timer.samples[served.login_path])
    launch = list(served.timer.samples[served.launch_path])
    both = [a + b for a, b in zip(login, launch, strict=True)]
    served.timer.reset()

    browsers = [LaunchBrowser() for _ in range(concurrency)]
    per_worker = launches // concurrency

    def worker(browser: LaunchBrowser) -> None:
        for _ in range(per_worker):
            one(browser)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, browsers))
    concurrent_rate = per_worker * concurrency / (time.perf_counter() - started)
    concurrent_both = [
        a + b
        for a, b in zip(
            served.timer.samples[served.login_path],
            served.timer.samples[served.launch_path],
            strict=False,
        )
    ]
    for browser in browsers + [warm]:
        browser.close()

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * 1000

    return {
        "tool": served.name,
        "serial/s": serial_rate,
        "concurrent/s": concurrent_rate,
        "login p50": ms(login, 50),
        "login p99": ms(login, 99),
        "launch p50": ms(launch, 50),
        "launch p99": ms(launch, 99),
        "both p50": ms(both, 50),
        "both p99": ms(both, 99),
        "both mean": statistics.fmean(both) * 1000,
        "conc both p50": ms(concurrent_both, 50),
    }


def print_table(rows: list[dict[str, Any]], launches: int, concurrency: int) -> None:
    print(
        f"\nLaunch benchmark: {launches} serial and {launches} concurrent ({concurrency} browsers) launches per tool"
    )
    print("tool-side milliseconds measured inside each tool's WSGI stack\n")
    columns = list(rows[0])
    print(" | ".join(f"{c:>14}" for c in columns))
    for row in rows:
        cells = [
            f"{row[c]:>14.2f}" if isinstance(row[c], float) else f"{row[c]:>14}" for c in columns
        ]
        print(" | ".join(cells))
    ours, ref = rows[0], rows[1]
    print(
        f"\nlogin+launch p50: Skillpath {ours['both p50']:.2f} ms vs reference {ref['both p50']:.2f} ms "
        f"-> {ref['both p50'] / ours['both p50']:.1f}x faster; p99 {ours['both p99']:.2f} ms"
    )


def main(argv: list[str] | None = None, out: Callable[..., None] = print) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows = run(args.launches, args.concurrency)
    print_table(rows, args.launches, args.concurrency)


if __name__ == "__main__":
    main()
