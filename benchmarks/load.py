"""Load benchmark: full LTI launches and `GET /api/v1/me/path` reads at rising concurrency
against Skillpath under gunicorn on PostgreSQL and Redis, beside the pylti1p3 reference tool
(`benchmarks.reference_tool`) in the same run, the tools taking turns at each level (the
machine's speed drifts within a run). Everything on 127.0.0.1; every phase is bounded in time
and count.

    .venv/bin/python -m benchmarks.load [--levels 1,4,8,16] [--seconds 6] [--max-ops 4000]
        [--learners 10000] [--lessons 1000] [--workers 2] [--threads 8]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/13]

A full launch is what a browser does: `GET /lti/login` (Skillpath stores state and nonce in
Redis and redirects), `POST /lti/launch` with an id_token, and for Skillpath the `GET` of the
page its 303 points to (the reference tool answers its page from the POST itself). "Skillpath,
no page" stops at the 303: the launch path alone, without the learner page. The load
generator plays the platform's authorization step itself: it signs each id_token with the
platform peer's RSA key (parsed once), so the platform's own CPU is not in the loop. The
generator runs in a separate process with a thread per concurrent user and plain `http.client`
keep-alive connections; it shares the machine's cores with the servers, as the issue's goals
say ("generator included").

Skillpath is seeded with `--learners` learner records in the course and a catalog of about
`--lessons` lessons; launches pick a random seeded learner (a Monday morning: people coming
back, each with the stored view their last launch left; nothing new in their LRS). `/api/v1/me/path` is read with the session tokens of those launches. The reference tool
keeps login state in process memory (`FlaskCacheDataStorage` over a cache, as pylti1p3's
examples do), so it can only run as one gunicorn process: it gets 1 worker with
workers x threads threads.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import numpy as np
import requests
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, insert, select, text

from benchmarks.recommender.simulator import make_world
from benchmarks.timing import percentile
from config import Settings
from lti_tool.container import Container
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage.models import CatalogRow, LearnerPageRow, LearnerRow
from lti_tool.usecases import admin
from lti_tool.usecases.learner_view import ViewInputs, compute_view
from lti_tool.usecases.model import params_version
from peers.lti_platform import PlatformPeer
from peers.tool_server import free_port
from recommender import ModelParams, load_catalog, new_learner

CONTEXT = "bench-course"
DEPLOYMENT = "d1"
SKILLPATH_CLIENT = "skillpath-load"
REFERENCE_CLIENT = "reference-load"
REFERENCE = "pylti1p3 reference"


# -- the load generator (its own process) --------------------------------------------------


@dataclass
class Target:
    """One tool as the generator sees it."""

    name: str
    base: str
    login_path: str
    launch_path: str
    client_id: str
    follows_page: bool  # Skillpath answers the launch with a 303 to its page


@dataclass
class PhaseResult:
    scenario: str
    tool: str
    concurrency: int
    ops: int
    errors: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""
    tokens: list[str] = field(default_factory=list)
    server_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


class Client:
    """Keep-alive connections to one origin, cookies by hand (one jar per launch)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._connection = http.client.HTTPConnection(self._host, self._port, timeout=30)

    def request(
        self, method: str, path: str, headers: dict[str, str], body: str | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=body, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
                return response.status, response.headers, data
            except (http.client.HTTPException, ConnectionError):
                # A keep-alive connection the server closed between requests: once more.
                self._connection.close()
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _cookies_from(headers: http.client.HTTPMessage, jar: dict[str, str]) -> None:
    for line in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(line)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def _cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}


class Generator:
    """Signs id_tokens with the platform's key and drives the tools."""

    def __init__(self, key_pem: bytes, kid: str, issuer: str, claims: dict[str, Any]) -> None:
        self.key = serialization.load_pem_private_key(key_pem, password=None)  # parsed once
        self.kid = kid
        self.issuer = issuer
        self.claims = claims

    def launch(self, client: Client, target: Target, subject: str) -> tuple[bool, str, str]:
        """One full launch; (ok, what went wrong, session token)."""
        jar: dict[str, str] = {}
        query = urlencode(
            {
                "iss": self.issuer,
                "login_hint": subject,
                "target_link_uri": target.base + target.launch_path,
                "lti_message_hint": "bench",
                "client_id": target.client_id,
                "lti_deployment_id": DEPLOYMENT,
            }
        )
        status, headers, _ = client.request("GET", f"{target.login_path}?{query}", {})
        if status not in (302, 303):
            return False, f"login answered {status}", ""
        _cookies_from(headers, jar)
        auth = parse_qs(urlsplit(headers.get("Location", "")).query)
        state, nonce = auth.get("state", [""])[0], auth.get("nonce", [""])[0]
        now = int(time.time())
        claims = dict(self.claims)
        claims.update(
            {
                "aud": target.client_id,
                "azp": target.client_id,
                "sub": subject,
                "nonce": nonce,
                "iat": now,
                "exp": now + 300,
                "name": f"Learner {subject}",
                "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": target.base
                + target.launch_path,
            }
        )
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})  # type: ignore[arg-type]
        body = urlencode({"id_token": token, "state": state})
        status, headers, page = client.request(
            "POST",
            target.launch_path,
            {"Content-Type": "application/x-www-form-urlencoded", **_cookie_header(jar)},
            body,
        )
        if not target.follows_page:
            ok = status in (200, 303)  # the reference's page, or Skillpath's redirect to its own
            return ok, "" if ok else f"launch answered {status}", ""
        if status != 303:
            return False, f"launch answered {status}: {page[:200]!r}", ""
        _cookies_from(headers, jar)
        location = headers.get("Location", "")
        path = urlsplit(location)
        status, _, page = client.request("GET", path.path + "?" + path.query, _cookie_header(jar))
        session = parse_qs(path.query).get("t", [""])[0]
        return (status == 200, "" if status == 200 else f"page answered {status}", session)

    def run_phase(
        self,
        scenario: str,
        target: Target,
        concurrency: int,
        seconds: float,
        max_ops: int,
        subjects: list[str],
        tokens: list[str],
        keep_tokens: int,
    ) -> PhaseResult:
        """`concurrency` users, each looping until `seconds` pass or `max_ops` are done."""
        result = PhaseResult(scenario, target.name, concurrency, 0, 0, 0.0)
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds
        budget = [max_ops]

        def user(seed: int) -> None:
            rng = random.Random(seed)
            client = Client(target.base)
            while time.perf_counter() < deadline:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                started = time.perf_counter()
                try:
                    if scenario == "launch":
                        ok, error, session = self.launch(client, target, rng.choice(subjects))
                    else:
                        status, _, body = client.request(
                            "GET",
                            "/api/v1/me/path",
                            {"Authorization": "Bearer " + rng.choice(tokens)},
                        )
                        ok, error, session = status == 200, f"answered {status}", ""
                except Exception as exc:  # noqa: BLE001 - counted as an error
                    ok, error, session = False, f"{type(exc).__name__}: {exc}", ""
                elapsed = time.perf_counter() - started
                with lock:
                    result.ops += 1
                    result.latencies.append(elapsed)
                    if not ok:
                        result.errors += 1
                        result.first_error = result.first_error or error
                    elif session and len(result.tokens) < keep_tokens:
                        result.tokens.append(session)

        started = time.perf_counter()
        threads = [threading.Thread(target=user, args=(n,)) for n in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.seconds = time.perf_counter() - started
        return result


def generator_process(
    conn: Connection, key_pem: bytes, kid: str, issuer: str, claims: dict[str, Any]
) -> None:
    """The generator's own process: phases asked for over `conn`, results sent back."""
    generator = Generator(key_pem, kid, issuer, claims)
    while True:
        order = conn.recv()
        if order is None:
            return
        conn.send(generator.run_phase(**order))


# -- the servers ---------------------------------------------------------------------------


def serve_reference(port: int, settings_json: str, threads: int) -> None:
    """`python -m benchmarks.load --serve-reference`: the reference tool under gunicorn."""
    from gunicorn.app.base import BaseApplication

    from benchmarks.reference_tool import make_reference_app

    class Reference(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{port}",
                "workers": 1,
                "threads": threads,
                "worker_class": "gthread",
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return make_reference_app(json.loads(settings_json), requests.Session())

    Reference().run()


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master process)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def tree_cpu_seconds(master: int) -> float:
    """CPU time (user + system) of a gunicorn master and its workers so far: what a phase
    cost the server, whatever else the machine was doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [str(master), *Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def seed(container: Container, issuer: str, learners: int, lessons: int) -> tuple[list[str], int]:
    """A catalog of about `lessons` lessons and `learners` learner records in the course."""
    world = make_world("realistic", np.random.default_rng(14), n_comp=max(lessons // 3, 2))
    goal = [world.n_comp - 1 - i for i in range(0, world.n_comp, max(1, world.n_comp // 10))]
    document = world.catalog_document(goal)
    admin.import_catalog(container, document)
    subjects = [f"learner-{n:05d}" for n in range(learners)]
    now = datetime.now(UTC)
    rows = [
        {
            "issuer": issuer,
            "client_id": SKILLPATH_CLIENT,
            "deployment_id": DEPLOYMENT,
            "context_id": CONTEXT,
            "subject": subject,
            "pathway_id": "goal",
            "state": new_learner(subject).to_dict(),
            "first_launch_at": now,
            "updated_at": now,
        }
        for subject in subjects
    ]
    engine = container.storage.engine
    with engine.begin() as connection:
        for start in range(0, len(rows), 1000):
            connection.execute(insert(LearnerRow.__table__), rows[start : start + 1000])  # type: ignore[arg-type]
        # They came before: each has the stored view and page record a launch leaves (all of
        # them new learners, so one view computed once stands for every one of them; the
        # evidence status is the one a launch without an LRS writes, so a returning learner's
        # launch with nothing new finds its view current, as it would in production).
        digest = connection.execute(select(CatalogRow.digest)).scalar_one()
        catalog = load_catalog(document)
        params = ModelParams.defaults()
        view = compute_view(
            catalog,
            catalog.pathway("goal"),
            new_learner("seed"),
            params,
            now,
            ViewInputs({}, None, {}, [], NO_LRS, digest, None),
        )
        ids = connection.execute(select(LearnerRow.id, LearnerRow.subject)).all()
        pages = [
            {
                "learner_id": learner_id,
                "display_name": f"Learner {subject}",  # the name the generator's launches send
                "preferences": {},
                "changes": {},
                "params_version": params_version(params),
                "snapshot": view.snapshot,
                "summary": view.summary,
                "computed_at": now,
            }
            for learner_id, subject in ids
        ]
        for start in range(0, len(pages), 1000):
            connection.execute(insert(LearnerPageRow.__table__), pages[start : start + 1000])  # type: ignore[arg-type]
    return subjects, len(document["lessons"])


# The evidence status a launch stores in the view when the tenant has no LRS.
NO_LRS = {"status": "no_lrs", "refreshed_at": None, "message": "No LRS is connected."}

# Rate limits for the run: counted like production's, never reached by the generator.
UNREFUSED = "1000000 per minute"


# -- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,4,8,16")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--max-ops", type=int, default=4000)
    parser.add_argument("--learners", type=int, default=10000)
    parser.add_argument("--lessons", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument(
        "--phases",
        default="full,nopage,reference,path",
        help="which of: full (Skillpath launch with its page), nopage (launch without the "
        "page), reference (the pylti1p3 tool), path (/api/v1/me/path)",
    )
    parser.add_argument("--serve-reference", nargs=3, metavar=("PORT", "SETTINGS", "THREADS"))
    args = parser.parse_args(argv)
    if args.serve_reference:
        port, settings_json, threads = args.serve_reference
        serve_reference(int(port), settings_json, int(threads))
        return
    for host in (urlsplit(args.redis_url).hostname, urlsplit(args.database_url).hostname):
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("the load benchmark talks to 127.0.0.1 only")
    levels = [int(n) for n in args.levels.split(",")]
    run(args, levels)


def run(args: argparse.Namespace, levels: list[int]) -> None:
    work = Path(tempfile.mkdtemp(prefix="skillpath-load-"))
    schema = "load_" + uuid.uuid4().hex[:10]
    admin_engine = create_engine(args.database_url)
    with admin_engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in args.database_url else "?"
    database_url = f"{args.database_url}{separator}options=-csearch_path%3D{schema}"
    platform = PlatformPeer().start()
    processes: list[subprocess.Popen[bytes]] = []
    generator: Any = None
    try:
        port, ref_port = free_port(), free_port()
        base, ref_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ref_port}"
        settings = Settings(
            base_url=base,
            database_url=database_url,
            redis_url=args.redis_url,
            secret_key="load-" + uuid.uuid4().hex,
            instance_path=str(work / "instance"),
            log_level="WARNING",
            embedded_worker=False,
        )
        container = Container.build(settings)
        container.initialise()
        admin.register_platform(
            container,
            RegistrationInput(
                issuer=platform.issuer,
                client_id=SKILLPATH_CLIENT,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                keyset_url=platform.keyset_url,
                deployments=[DEPLOYMENT],
            ),
        )
        started = time.perf_counter()
        subjects, lesson_count = seed(container, platform.issuer, args.learners, args.lessons)
        print(
            f"seeded {len(subjects)} learners and a {lesson_count}-lesson catalog in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        container.close()
        platform.register_tool(
            SKILLPATH_CLIENT,
            DEPLOYMENT,
            base + "/lti/login",
            base + "/lti/launch",
            base + "/.well-known/jwks.json",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLPATH_")}
        env.update(
            SKILLPATH_BASE_URL=base,
            SKILLPATH_DATABASE_URL=database_url,
            SKILLPATH_REDIS_URL=args.redis_url,
            SKILLPATH_SECRET_KEY=settings.secret_key,
            SKILLPATH_INSTANCE_PATH=settings.instance_path,
            SKILLPATH_LOG_LEVEL="WARNING",
            SKILLPATH_EMBEDDED_WORKER="false",
            # Every user of this benchmark comes from 127.0.0.1: the per-address limits stay
            # on (their cost is measured) but high enough not to refuse the spike.
            SKILLPATH_RATE_LIMIT_LOGIN=UNREFUSED,
            SKILLPATH_RATE_LIMIT_LAUNCH=UNREFUSED,
            SKILLPATH_RATE_LIMIT_API=UNREFUSED,
            PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"),
        )
        skillpath = Path(sys.executable).with_name("skillpath")
        server = subprocess.Popen(
            [str(skillpath), "serve", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(args.workers), "--threads", str(args.threads)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / "skillpath.log").open("wb"),
            start_new_session=True,
        )
        processes.append(server)
        wait_ready(base + "/healthz", server)
        targets = [Target("Skillpath", base, "/lti/login", "/lti/launch", SKILLPATH_CLIENT, True)]
        # The same without the page after the 303: the launch path alone (login + launch).
        without_page = Target(
            "Skillpath, no page", base, "/lti/login", "/lti/launch", SKILLPATH_CLIENT, False
        )
        if not args.skip_reference:
            platform.register_tool(
                REFERENCE_CLIENT, DEPLOYMENT, ref_base + "/login", ref_base + "/launch",
                ref_base + "/jwks",
            )  # fmt: skip
            reference = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.load", "--serve-reference", str(ref_port)]
                + [
                    json.dumps(platform.platform_settings(REFERENCE_CLIENT, DEPLOYMENT)),
                    str(args.workers * args.threads),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(work / "reference.log").open("wb"),
                start_new_session=True,
            )
            processes.append(reference)
            wait_ready(ref_base + "/jwks", reference)
            targets.append(
                Target(REFERENCE, ref_base, "/login", "/launch", REFERENCE_CLIENT, False)
            )

        claims = platform.default_claims(
            client_id=SKILLPATH_CLIENT, user="template", roles="learner", context_id=CONTEXT,
            resource_link_id="link-1", deployment_id=DEPLOYMENT,
        )  # fmt: skip
        key_pem = platform.key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        generator = context.Process(
            target=generator_process,
            args=(theirs, key_pem, platform.kid, platform.issuer, claims),
            daemon=True,
        )
        generator.start()

        masters = {"Skillpath": server.pid, "Skillpath, no page": server.pid}
        if not args.skip_reference:
            masters[REFERENCE] = processes[-1].pid

        def phase(scenario: str, target: Target, level: int, tokens: list[str]) -> PhaseResult:
            cpu_before = tree_cpu_seconds(masters[target.name])
            ours.send(
                {
                    "scenario": scenario,
                    "target": target,
                    "concurrency": level,
                    "seconds": args.seconds,
                    "max_ops": args.max_ops,
                    "subjects": subjects,
                    "tokens": tokens,
                    "keep_tokens": 2000,
                }
            )
            result: PhaseResult = ours.recv()
            result.server_cpu_seconds = tree_cpu_seconds(masters[target.name]) - cpu_before
            return result

        results: list[PhaseResult] = []
        tokens: list[str] = []
        phases = set(args.phases.split(","))
        chosen = [
            target
            for target, name in zip(
                [*targets[:1], without_page, *targets[1:]],
                ["full", "nopage", "reference"],
                strict=False,
            )
            if name in phases
        ]
        for target in chosen:
            phase("launch", target, 4, [])  # warm-up: connections, JWKS, templates
        # The tools take turns at each level: the machine's speed drifts over a run (by a
        # third within minutes on a shared host), so each level compares them side by side.
        for level in levels:
            for target in chosen:
                result = phase("launch", target, level, [])
                tokens += result.tokens
                results.append(result)
                report(result)
        order = {target.name: n for n, target in enumerate(chosen)}
        results.sort(key=lambda r: (order[r.tool], r.concurrency))
        rss_after_launches = worker_rss_mb(server.pid)
        if "path" in phases and not tokens:
            tokens = phase("launch", targets[0], 4, []).tokens  # sessions to read with
        for level in levels if "path" in phases else []:
            result = phase("me/path", targets[0], level, tokens)
            results.append(result)
            report(result)
        rss = worker_rss_mb(server.pid)
        print()
        table(results, rss_after_launches, rss, args, lesson_count, len(subjects))
    finally:
        if generator is not None and generator.is_alive():
            ours.send(None)
            generator.join(10)
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        platform.stop()
        with admin_engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


def cpu_ms(result: PhaseResult) -> float:
    return result.server_cpu_seconds * 1000 / result.ops if result.ops else float("nan")


def report(result: PhaseResult) -> None:
    ms = [v * 1000 for v in result.latencies]
    print(
        f"{result.scenario:8} {result.tool:20} c={result.concurrency:<3} "
        f"{result.per_second:7.1f}/s  p50 {percentile(ms, 50):7.1f} ms  "
        f"p99 {percentile(ms, 99):7.1f} ms  server CPU {cpu_ms(result):6.2f} ms/op  "
        f"errors {result.errors}"
        + (f" ({result.first_error[:120]})" if result.first_error else ""),
        flush=True,
    )


def table(
    results: list[PhaseResult],
    rss_launch: list[float],
    rss: list[float],
    args: argparse.Namespace,
    lessons: int,
    learners: int,
) -> None:
    print(
        f"load: gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL + Redis, "
        f"{learners} learners, {lessons} lessons; {args.seconds:g} s or {args.max_ops} ops per "
        "level; generator in its own process on the same cores"
    )
    print(
        f"{'what':9} {'tool':20} {'users':>5} {'ops':>6} {'per s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'mean ms':>8} {'CPU ms/op':>9} {'errors':>6}"
    )
    for r in results:
        ms = [v * 1000 for v in r.latencies]
        mean = statistics.fmean(ms) if ms else float("nan")
        print(
            f"{r.scenario:9} {r.tool:20} {r.concurrency:>5} {r.ops:>6} {r.per_second:>8.1f} "
            f"{percentile(ms, 50):>8.1f} {percentile(ms, 99):>8.1f} {mean:>8.1f} "
            f"{cpu_ms(r):>9.2f} {r.errors:>6}"
        )
    reference = {
        r.concurrency: r for r in results if r.scenario == "launch" and r.tool == REFERENCE
    }
    for r in results:
        other = reference.get(r.concurrency)
        if r.scenario != "launch" or r.tool == REFERENCE or other is None or not other.ops:
            continue
        print(
            f"{r.tool} at {r.concurrency} users against the reference: "
            f"{r.per_second / other.per_second:.2f}x the launches per second, "
            f"{cpu_ms(r) / cpu_ms(other):.1f}x the CPU per launch"
        )
    print(
        "RSS per Skillpath worker (MB): after launches "
        + ", ".join(f"{v:.0f}" for v in rss_launch)
        + "; at the end "
        + ", ".join(f"{v:.0f}" for v in rss)
    )


if __name__ == "__main__":
    main()
