"""Evidence from the tenant's LRS for the learner page: one client per LRS (its connection
pool and its detected quirks adapter), and the per-learner refresh at launch."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Collection
from datetime import datetime
from typing import Any

from adapters.lrs import adapter_for_client
from lti_tool.learning.evidence import EvidenceBatch, EvidenceSource
from lti_tool.learning.identity import actor_for, identity_policy, launch_email
from lti_tool.learning.lrs_connections import LrsSettings, lrs_for
from lti_tool.models import Launch
from lti_tool.services import Services
from xapi.client import LrsClient
from xapi.identity import ActorMatcher
from xapi.sync import PagingStrategy, refresh_learner

# What a launch may wait for the LRS; past it the page uses the last known state.
LAUNCH_REFRESH_SECONDS = 2.0


class LrsGateway:
    """Clients per LRS connection, kept for the life of the process (connection reuse)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._clients: dict[tuple[int, str, str], tuple[LrsClient, PagingStrategy]] = {}
        self._lock = threading.Lock()

    def settings_for(self, issuer: str, client_id: str) -> LrsSettings | None:
        with self._services.database.session() as session:
            found = lrs_for(session, self._services.box, issuer, client_id)
        if found is not None:
            return found
        env = self._services.settings
        if env.lrs_endpoint:
            return LrsSettings(0, env.lrs_endpoint, env.lrs_username, env.lrs_password)
        return None

    def client(self, lrs: LrsSettings) -> tuple[LrsClient, PagingStrategy]:
        key = (lrs.id, lrs.endpoint, lrs.username)
        with self._lock:
            found = self._clients.get(key)
        if found is None:
            client = LrsClient(lrs.endpoint, lrs.username, lrs.password, timeout=5.0)
            found = (client, adapter_for_client(client))
            with self._lock:
                self._clients[key] = found
        return found

    def source_for(self, launch: Launch) -> EvidenceSource | None:
        lrs = self.settings_for(launch.issuer, launch.client_id)
        if lrs is None:
            return None
        with self._services.database.session() as session:
            policy = identity_policy(session, launch.issuer, launch.client_id)
        email = launch_email(launch)

        def fetch(
            issuer: str,
            client_id: str,
            subject: str,
            since: datetime | None,
            lesson_ids: Collection[str],
        ) -> EvidenceBatch:
            client, paging = self.client(lrs)
            actor = actor_for(policy, issuer, subject, email)
            emails = {issuer: {email: subject}} if email else None
            result = refresh_learner(
                client,
                actor,
                lesson_ids,
                ActorMatcher([policy], emails),
                since=since,
                timeout_seconds=LAUNCH_REFRESH_SECONDS,
                paging=paging,
            )
            # The reader names learners "issuer|sub"; our evidence is kept per subject.
            observations = [dataclasses.replace(o, learner_id=subject) for o in result.observations]
            return EvidenceBatch(observations, tuple(result.voided_statement_ids))

        return fetch


def init_app(app: Any, services: Services) -> None:
    gateway = LrsGateway(services)
    app.extensions["skillpath.lrs"] = gateway
    app.extensions["skillpath.evidence"] = gateway.source_for
