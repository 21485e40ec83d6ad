"""The tenants' LRSs: where each one is (its own, the default one in the database, or the one
in the environment), one client per LRS for the life of the process (its connection pool and
its detected quirks adapter), and a learner's evidence read at launch.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import requests

from adapters.lrs import adapter_for_client
from config import Settings
from lti_tool.lrs.actors import actor_for
from lti_tool.storage import SecretBox, Storage, Tenant, Transaction
from recommender import Observation
from xapi.client import LrsClient, StatementQuery
from xapi.errors import LrsAuthError, LrsConnectionError, LrsHttpError, XapiError
from xapi.identity import ActorMatcher, IdentityPolicy
from xapi.sync import PagingStrategy, refresh_learner

# What a launch may wait for the LRS; past it the page uses the last known state.
LAUNCH_REFRESH_SECONDS = 2.0
LRS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class LrsSettings:
    """One LRS connection, its password decrypted. `id` 0 is the environment's default."""

    id: int
    endpoint: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class LrsProbe:
    """What trying an LRS showed: whether it works, in words, and the xAPI versions it
    names in `/about`."""

    ok: bool
    message: str
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceBatch:
    """What an evidence source found for one learner since the last refresh."""

    observations: Sequence[Observation]
    voided_statement_ids: Sequence[str] = ()


# (subject, since, catalog lesson ids) -> batch; raises on failure.
EvidenceSource = Callable[[str, datetime | None, Collection[str]], EvidenceBatch]


class LrsGateway:
    """The LRS of each tenant and one client per LRS, kept for the life of the process."""

    def __init__(
        self,
        storage: Storage,
        box: SecretBox,
        settings: Settings,
        session_factory: Callable[[], requests.Session],
    ) -> None:
        self._storage = storage
        self._box = box
        self._settings = settings
        self._new_session = session_factory
        self._clients: dict[tuple[int, str, str], tuple[LrsClient, PagingStrategy]] = {}
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def settings_for(self, tenant: Tenant, tx: Transaction | None = None) -> LrsSettings | None:
        """The tenant's LRS, else the default one, else the environment's, else None. Read
        in `tx` when the caller has one open, else in a transaction of its own."""
        if tx is not None:
            found = tx.lrs.for_tenant(tenant)
        else:
            with self._storage.transaction() as own:
                found = own.lrs.for_tenant(tenant)
        if found is not None:
            return LrsSettings(
                found.id,
                found.endpoint,
                found.username,
                self._box.decrypt(found.password_encrypted).decode(),
            )
        env = self._settings
        if env.lrs_endpoint:
            return LrsSettings(0, env.lrs_endpoint, env.lrs_username, env.lrs_password)
        return None

    def connected(self, tenant: Tenant) -> bool:
        return self.settings_for(tenant) is not None

    def client(self, lrs: LrsSettings) -> tuple[LrsClient, PagingStrategy]:
        """The client of one LRS and its paging adapter (detected once, from `/about`)."""
        key = (lrs.id, lrs.endpoint, lrs.username)
        with self._lock:
            found = self._clients.get(key)
        if found is None:
            session = self._new_session()
            client = LrsClient(
                lrs.endpoint,
                lrs.username,
                lrs.password,
                session=session,
                timeout=LRS_TIMEOUT_SECONDS,
            )
            found = (client, adapter_for_client(client))
            with self._lock:
                self._clients[key] = found
                self._sessions.append(session)
        return found

    def evidence_source(
        self,
        tenant: Tenant,
        policy: IdentityPolicy,
        email: str | None,
        lrs: LrsSettings | None,
    ) -> EvidenceSource | None:
        """How to read one learner's new statements from the tenant's LRS, `lrs` (as
        `settings_for` found it; None: no LRS)."""
        if lrs is None:
            return None

        def fetch(
            subject: str, since: datetime | None, lesson_ids: Collection[str]
        ) -> EvidenceBatch:
            client, paging = self.client(lrs)
            actor = actor_for(policy, tenant.issuer, subject, email)
            emails = {tenant.issuer: {email: subject}} if email else None
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

    def probe(self, endpoint: str, username: str, password: str) -> LrsProbe:
        """Try an LRS before anyone relies on it: its `/about`, then one authenticated
        statements query. Never raises; the answer says what happened."""
        session = self._new_session()
        client = LrsClient(
            endpoint, username, password, session=session, timeout=LRS_TIMEOUT_SECONDS
        )
        try:
            about = client.about()
            client.get_statements(StatementQuery(limit=1, ascending=None))
        except LrsAuthError as exc:
            return LrsProbe(False, f"the LRS refused the username or password (HTTP {exc.status})")
        except LrsHttpError as exc:
            body = " ".join(exc.body.split())[:200]
            return LrsProbe(
                False, f"the LRS answered HTTP {exc.status}" + (f": {body}" if body else "")
            )
        except LrsConnectionError as exc:
            return LrsProbe(False, f"the LRS could not be reached ({exc.message})")
        except XapiError as exc:
            return LrsProbe(False, f"the LRS did not answer as an xAPI LRS does ({exc.message})")
        finally:
            session.close()
        versions = about.get("version") if isinstance(about, dict) else None
        listed = (
            tuple(v for v in versions if isinstance(v, str)) if isinstance(versions, list) else ()
        )
        return LrsProbe(True, "connected", listed)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions, self._clients = self._sessions, [], {}
        for session in sessions:
            session.close()
