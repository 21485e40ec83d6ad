"""docs/production.md followed once, end to end, on this machine's PostgreSQL and Redis:
install the package (built from this checkout) into a virtual environment of its own, migrate
with `skillpath init`, register the platform and import a catalog with the CLI, run two
app instances (`skillpath serve`) and two outbox workers (`skillpath worker`) as the sample
systemd units do, put a round-robin balancer in front (the fault proxy with two upstreams,
standing in for the TLS proxy), launch learners through it so that every step of a launch
may land on either instance, kill one worker mid-run, and find every score in the platform's
gradebook exactly once. Also: compose.yaml and the units are valid and name only real
settings.

Skipped, saying why, when SKILLPATH_TEST_DATABASE_URL / SKILLPATH_TEST_REDIS_URL are unset.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from config import Settings
from peers.browser import LaunchBrowser
from peers.fault_proxy import fault_proxy
from peers.lti_platform import PlatformPeer, context_key
from peers.tool_server import database_url, free_port
from tests.peers.platform_fixtures import platform_peer  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DATABASE = os.environ.get("SKILLPATH_TEST_DATABASE_URL", "")
REDIS = os.environ.get("SKILLPATH_TEST_REDIS_URL", "")


def known_settings() -> set[str]:
    """Every variable `Settings.from_env` reads."""
    source = (ROOT / "config" / "settings.py").read_text()
    names = {"SKILLPATH_" + n for n in re.findall(r'(?:text|integer|flag)\("([A-Z_]+)"', source)}
    names |= set(re.findall(r'env\.get\("([A-Z_]+)"', source))
    return names


def test_compose_file_and_units_are_valid_and_name_real_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "sync", "proxy"} <= set(services)
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown {needed}"
    known = known_settings()
    texts = [(ROOT / "compose.yaml").read_text()] + [
        p.read_text() for p in sorted((ROOT / "deploy").rglob("*")) if p.is_file()
    ]
    used = {v for text in texts for v in re.findall(r"\b(SKILLPATH_[A-Z_]+)\b", text)}
    assert used and used <= known, used - known
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "skillpath-web@.service",
        "skillpath-worker@.service",
        "skillpath-sync.service",
    }
    for unit in units:
        text = unit.read_text()
        assert "[Service]" in text and "ExecStart=" in text and "EnvironmentFile=" in text
        commands = re.findall(r"ExecStart=\S*skillpath (\w+)", text)
        assert commands and set(commands) <= {"serve", "worker", "sync", "init"}


def install(venv: Path) -> Path:
    """`pip install` of this checkout into a fresh virtual environment; its `skillpath`.
    The dependencies are the test environment's (a .pth file points there): the package
    itself, its entry point and its data files come from the built wheel."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    here = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (purelib / "skillpath-test-dependencies.pth").write_text(here + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin" / "skillpath"


def start(
    skillpath: Path, args: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(skillpath), *args],
            env=env,
            cwd=log.parent,  # not the checkout: the installed package is what runs
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run(skillpath: Path, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(skillpath), *args],
        env=env,
        cwd=skillpath.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready in 40 s: {log.read_text()[-3000:]}")


@pytest.fixture
def production_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    if not (DATABASE and REDIS):
        pytest.skip(
            "the production guide's test needs real PostgreSQL and Redis: set "
            "SKILLPATH_TEST_DATABASE_URL and SKILLPATH_TEST_REDIS_URL (as .ci/run does)"
        )
    with database_url(tmp_path, dict(os.environ)) as url:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SKILLPATH_", "PROMETHEUS_"))
        }
        env.update(
            SKILLPATH_DATABASE_URL=url,
            SKILLPATH_REDIS_URL=REDIS,
            SKILLPATH_SECRET_KEY="production-guide-" + uuid.uuid4().hex,
            SKILLPATH_INSTANCE_PATH=str(tmp_path / "instance"),
            SKILLPATH_EMBEDDED_WORKER="false",
            SKILLPATH_LOG_FORMAT="json",
            # Short leases so the killed worker's items move on within the test's patience.
            SKILLPATH_OUTBOX_LEASE_SECONDS="3",
        )
        yield env


def test_two_instances_and_two_workers_on_postgresql_and_redis(
    production_env: dict[str, str],
    platform_peer: PlatformPeer,  # noqa: F811
    tmp_path: Path,
) -> None:
    ports = [free_port(), free_port()]
    instances = [f"http://127.0.0.1:{port}" for port in ports]
    processes: list[subprocess.Popen[bytes]] = []
    with fault_proxy(instances[0], also=instances[1:]) as balancer:
        env = dict(production_env, SKILLPATH_BASE_URL=balancer.url)
        try:
            skillpath = install(tmp_path / "venv")
            installed = subprocess.run(
                [str(skillpath.with_name("python")), "-c", "import lti_tool; print(lti_tool.__file__)"],
                capture_output=True, text=True, check=True, cwd=tmp_path,
            ).stdout  # fmt: skip
            assert installed.startswith(str(tmp_path / "venv")), installed
            assert "newest schema" in run(skillpath, ["init"], env)
            client_id = "prod-" + uuid.uuid4().hex[:8]
            run(
                skillpath,
                [
                    "platform", "add", "--issuer", platform_peer.issuer,
                    "--client-id", client_id, "--auth-login-url", platform_peer.auth_login_url,
                    "--auth-token-url", platform_peer.auth_token_url,
                    "--keyset-url", platform_peer.keyset_url, "--deployment", "dep-1",
                ],
                env,
            )  # fmt: skip
            catalog = str(ROOT / "tests/fixtures/catalog-example.json")
            run(skillpath, ["catalog", "import", catalog], env)
            platform_peer.register_tool(
                client_id,
                "dep-1",
                balancer.url + "/lti/login",
                balancer.url + "/lti/launch",
                balancer.url + "/.well-known/jwks.json",
            )
            for n, port in enumerate(ports):
                log = tmp_path / f"web-{n}.log"
                processes.append(
                    start(
                        skillpath,
                        [
                            "serve",
                            "--bind",
                            f"127.0.0.1:{port}",
                            "--workers",
                            "2",
                            "--threads",
                            "4",
                        ],
                        dict(env, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / f"metrics-{n}")),
                        log,
                    )
                )
                wait_ready(instances[n], processes[-1], log)
            workers = [
                start(skillpath, ["worker"], env, tmp_path / f"worker-{n}.log") for n in range(2)
            ]
            processes += workers

            context = "course-" + uuid.uuid4().hex[:6]
            learners = [f"learner-{n}" for n in range(8)]
            for n, learner in enumerate(learners):
                with LaunchBrowser() as browser:
                    page = browser.launch(
                        platform_peer.launch_url(
                            client_id=client_id, user=learner, roles="learner", context_id=context
                        )
                    )
                    assert page.status_code == 200, page.text[:500]
                if n == 3:
                    stop(workers[0], signal.SIGKILL)  # mid-run, whatever it held
            # Each launch is several requests; the balancer alternated them.
            assert all(count >= len(learners) for count in balancer.stats.by_upstream.values())
            assert set(balancer.stats.by_upstream) == set(instances)

            lineitems = f"{platform_peer.issuer}/ags/{context_key(context)}/lineitems"
            deadline = time.monotonic() + 45
            posts: list[str] = []
            while time.monotonic() < deadline:
                items = platform_peer.gradebook.line_items(context)
                posts = [p.user_id for i in items for p in platform_peer.gradebook.posts(i["id"])]
                if len(set(posts)) == len(learners):
                    break
                time.sleep(0.3)
            time.sleep(4)  # past a lease: anything sent twice would have arrived by now
            items = platform_peer.gradebook.line_items(context)
            posts = [p.user_id for i in items for p in platform_peer.gradebook.posts(i["id"])]
            assert Counter(posts) == Counter(dict.fromkeys(learners, 1)), lineitems

            metrics = requests.get(instances[0] + "/metrics", timeout=10).text
            assert "skillpath_launches_total" in metrics
            depths = re.findall(r"^skillpath_outbox_depth\{.*\} (\S+)$", metrics, re.M)
            assert all(float(depth) == 0 for depth in depths)
        finally:
            for process in reversed(processes):
                stop(process)


def test_settings_named_in_the_guide_exist() -> None:
    guide = (ROOT / "docs" / "production.md").read_text()
    used = set(re.findall(r"\b(SKILLPATH_[A-Z_]+)\b", guide))
    assert used <= known_settings(), used - known_settings()
    assert Settings.from_env({}).log_format == "json"
