"""Skillpath and the LTI platform peer registered with each other; real launches, a worker
that delivers to the peer (optionally through the fault proxy), and the peer's gradebook to
assert on."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.container import Container
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.services.score_delivery import KIND, AgsScoreDeliverer
from lti_tool.outbox import BackoffPolicy, WorkerOptions, WorkerReport, worker_once
from lti_tool.outbox.delivery import DelivererRegistry
from lti_tool.storage import LaunchRecord
from lti_tool.storage.models import LaunchRow
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.fault_proxy import FaultProxy
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.peers.platform_fixtures import launch_browser, platform_peer  # noqa: F401

FAST_BACKOFF = BackoffPolicy(
    base_seconds=0.02,
    cap_seconds=0.2,
    max_retry_after_seconds=5,
    probe_base_seconds=0.02,
    probe_cap_seconds=0.2,
)


@dataclass
class GradeRig:
    tool: ToolServer
    peer: PlatformPeer
    browser: LaunchBrowser
    client_id: str
    context_id: str = field(default_factory=lambda: "course-" + uuid.uuid4().hex[:8])

    @property
    def services(self) -> Container:
        services: Container = self.tool.app.extensions["skillpath"]
        return services

    @property
    def lineitems_url(self) -> str:
        from peers.lti_platform import context_key

        return f"{self.peer.issuer}/ags/{context_key(self.context_id)}/lineitems"

    def launch(self, user: str = "learner-1", **params: Any) -> LaunchRecord:
        """A real launch from the platform; the launch Skillpath stored."""
        params.setdefault("context_id", self.context_id)
        params.setdefault("roles", "learner")
        url = self.peer.launch_url(client_id=self.client_id, user=user, **params)
        response = self.browser.launch(url)
        assert response.status_code == 200, response.text[:500]
        with Session(self.services.storage.engine) as session:
            launch_id = session.scalars(
                select(LaunchRow.id)
                .where(LaunchRow.client_id == self.client_id, LaunchRow.subject == user)
                .order_by(LaunchRow.created_at.desc())
            ).first()
        assert launch_id is not None
        with self.services.storage.transaction() as tx:
            found = tx.launches.get(launch_id)
        assert found is not None
        return found

    def learners(self, count: int, prefix: str = "learner", **params: Any) -> list[LaunchRecord]:
        """`count` launches whose claims the platform built exactly as `/authorize` does
        (without the browser round trips, which these tests are not about)."""
        params.setdefault("context_id", self.context_id)
        rows = []
        with self.services.storage.transaction() as tx:
            for n in range(count):
                user = f"{prefix}-{n}"
                claims = self.peer.default_claims(
                    client_id=self.client_id, user=user, roles="learner", **params
                )
                row = LaunchRecord(
                    id="launch-" + uuid.uuid4().hex,
                    issuer=self.peer.issuer,
                    client_id=self.client_id,
                    deployment_id="dep-1",
                    message_type="LtiResourceLinkRequest",
                    subject=user,
                    role="learner",
                    user_name=None,
                    context_id=self.context_id,
                    context_title=None,
                    resource_link_id=params.get("resource_link_id", "link-1"),
                    resource_link_title=None,
                    claims=claims,
                    created_at=self.services.now(),
                )
                tx.launches.add(row)
                rows.append(row)
        return rows

    def clients(
        self, proxy: FaultProxy | None = None, read_timeout: float = 20.0
    ) -> ServiceClients:
        """Service clients of their own (a session through `proxy`, fresh caches)."""
        services = self.services
        session = services.new_http_session(services.settings, 16)
        session.timeout = (2.0, read_timeout)  # type: ignore[attr-defined]
        if proxy is not None:
            session.proxies.update(proxy.proxies)
            session.trust_env = False
        return ServiceClients(services.tool_conf, services.store, services.signing_key, session)

    def deliverers(
        self, proxy: FaultProxy | None = None, read_timeout: float = 20.0
    ) -> DelivererRegistry:
        clients = self.clients(proxy, read_timeout)
        registry = DelivererRegistry()
        registry.register(KIND, AgsScoreDeliverer(clients))
        return registry

    @staticmethod
    def options(concurrency: int = 4, batch_size: int = 50) -> WorkerOptions:
        return WorkerOptions(
            batch_size=batch_size,
            lease=timedelta(seconds=30),
            concurrency=concurrency,
            kinds=(KIND,),
            policy=FAST_BACKOFF,
            rng=random.Random(3),
        )

    def drain(
        self,
        proxy: FaultProxy | None = None,
        timeout: float = 20.0,
        concurrency: int = 4,
        deliverers: DelivererRegistry | None = None,
    ) -> WorkerReport:
        """Run the worker until nothing is pending (retries included)."""
        deliverers = deliverers or self.deliverers(proxy)
        options = self.options(concurrency)
        total = WorkerReport()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = worker_once(self.services, options, deliverers)
            total.add(report)
            with self.services.storage.transaction() as tx:
                if tx.outbox.counts([KIND]).pending == 0:
                    return total
            if report.claimed == 0:
                time.sleep(0.02)
        raise AssertionError(f"outbox not drained in {timeout} s: {total}")

    def line_item(self, **match: Any) -> dict[str, Any]:
        found = [
            i
            for i in self.peer.gradebook.line_items(self.context_id)
            if all(i.get(k) == v for k, v in match.items())
        ]
        assert len(found) == 1, found
        return found[0]


def register_pair(tool: ToolServer, peer: PlatformPeer, client_id: str) -> None:
    admin.register_platform(
        tool.app.extensions["skillpath"],
        RegistrationInput(
            issuer=peer.issuer,
            client_id=client_id,
            auth_login_url=peer.auth_login_url,
            auth_token_url=peer.auth_token_url,
            keyset_url=peer.keyset_url,
            deployments=["dep-1"],
        ),
    )
    peer.register_tool(client_id, "dep-1", tool.login_url, tool.launch_url, tool.jwks_url)


@pytest.fixture
def rig(
    tool: ToolServer,
    platform_peer: PlatformPeer,  # noqa: F811
    launch_browser: LaunchBrowser,  # noqa: F811
) -> Iterator[GradeRig]:
    client_id = "skillpath-" + uuid.uuid4().hex[:8]
    register_pair(tool, platform_peer, client_id)
    yield GradeRig(tool, platform_peer, launch_browser, client_id)
    platform_peer.unregister_tool(client_id)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy().start()
    yield proxy
    proxy.stop()
