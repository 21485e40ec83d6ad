"""The composition root: one `Container` per process builds every port once (database and
repositories, shared store, secret box, HTTP sessions, LTI service clients, the LRS gateway,
the outbox's deliverers, the clock) and hands them to the web views, the CLI and the worker.

`create_app` keeps it in `app.extensions["skillpath"]`; a CLI command opens one of its own.
Nothing else in the app builds a session, a pool or a cache.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from config import Settings
from lti_tool.lrs.delivery import KIND as STATEMENT_KIND
from lti_tool.lrs.delivery import XapiStatementDeliverer
from lti_tool.lrs.gateway import LrsGateway
from lti_tool.lti import tool_keys
from lti_tool.lti.dynamic_registration import PlatformRegistrar
from lti_tool.lti.flow import LaunchFlow
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.registrations import DatabaseToolConf
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.services.score_delivery import KIND as SCORE_KIND
from lti_tool.lti.services.score_delivery import AgsScoreDeliverer
from lti_tool.lti.sessions import LaunchSessions
from lti_tool.metrics import DatabaseCollector, Metrics
from lti_tool.outbox.delivery import DelivererRegistry
from lti_tool.storage import SecretBox, SharedStore, Storage, ToolKeyRecord, make_store
from lti_tool.usecases.admin import rotate_tool_key
from xapi.http import CallObserver, new_session, safe_retries

log = logging.getLogger("skillpath")

USER_AGENT = "Skillpath/0.1 (+LTI 1.3 tool)"
# Concurrent deliveries and page requests share one pool per kind of peer.
PLATFORM_POOL_SIZE = 16
LRS_POOL_SIZE = 8

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def resolve_settings(settings: Settings, default_instance_path: str) -> Settings:
    """Fill the database URL and secret key from the instance folder when they are unset."""
    instance = Path(settings.instance_path or default_instance_path)
    changes: dict[str, str] = {"instance_path": str(instance)}
    if not settings.database_url:
        instance.mkdir(parents=True, exist_ok=True)
        changes["database_url"] = f"sqlite:///{instance / 'skillpath.sqlite3'}"
    if not settings.secret_key:
        changes["secret_key"] = _instance_secret(instance)
    return settings.replace(**changes)


def _instance_secret(instance: Path) -> str:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: of two processes starting at once, one writes and both read the same key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            log.info("generated a new secret key in the instance folder")
    return path.read_text().strip()


@dataclass
class Container:
    settings: Settings
    storage: Storage
    store: SharedStore
    box: SecretBox
    http: requests.Session
    clock: Clock
    signing_key: tool_keys.CurrentKey
    tool_conf: DatabaseToolConf
    platform_keys: PlatformKeys
    sessions: LaunchSessions
    launches: LaunchFlow
    lti_services: ServiceClients
    lrs: LrsGateway
    deliverers: DelivererRegistry
    metrics: Metrics
    database_metrics: DatabaseCollector
    registrar: PlatformRegistrar
    # What the web edge opened beside the ports (the rate limiter's Redis pool), closed with them.
    closers: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utc_now) -> Container:
        storage = Storage(settings.database_url)
        store = make_store(storage, settings.redis_url, clock=clock)
        box = SecretBox(settings.secret_key)
        metrics = Metrics(multiprocess_dir=settings.metrics_dir)
        http = cls.new_http_session(
            settings, PLATFORM_POOL_SIZE, retrying=True, observer=metrics.peer_observer("lms")
        )
        signing_key = tool_keys.CurrentKey(storage, box)
        tool_conf = DatabaseToolConf(storage, signing_key)
        platform_keys = PlatformKeys(store, http)
        sessions = LaunchSessions(settings.secret_key)
        launches = LaunchFlow(
            settings, storage, store, tool_conf, platform_keys, sessions, http, clock
        )
        lti_services = ServiceClients(tool_conf, store, signing_key, http)
        lrs = LrsGateway(
            storage,
            box,
            settings,
            lambda: cls.new_http_session(
                settings, LRS_POOL_SIZE, observer=metrics.peer_observer("lrs")
            ),
        )
        # Dynamic Registration's calls: their own small pool, no automatic retries (a
        # registration POST must not be sent twice).
        registrar = PlatformRegistrar(settings, cls.new_http_session(settings, 2))
        deliverers = DelivererRegistry()
        deliverers.register(SCORE_KIND, AgsScoreDeliverer(lti_services))
        deliverers.register(STATEMENT_KIND, XapiStatementDeliverer(lrs))
        return cls(
            settings=settings,
            storage=storage,
            store=store,
            box=box,
            http=http,
            clock=clock,
            signing_key=signing_key,
            tool_conf=tool_conf,
            platform_keys=platform_keys,
            sessions=sessions,
            launches=launches,
            lti_services=lti_services,
            lrs=lrs,
            deliverers=deliverers,
            metrics=metrics,
            database_metrics=DatabaseCollector(storage, clock),
            registrar=registrar,
        )

    @staticmethod
    def new_http_session(
        settings: Settings,
        pool_size: int,
        *,
        retrying: bool = False,
        observer: CallObserver | None = None,
    ) -> requests.Session:
        """The one way the app makes an HTTP session: timeouts on every call, the environment
        read once, GETs retried (`retrying`) where the caller does not retry itself, every
        call told to `observer` (the metrics)."""
        return new_session(
            user_agent=USER_AGENT,
            pool_size=pool_size,
            retries=safe_retries() if retrying else None,
            trust_env=settings.http_trust_env,
            ca_bundle=settings.ca_bundle,
            observer=observer,
        )

    def now(self) -> datetime:
        return self.clock()

    def initialise(self) -> bool:
        """Migrate the schema and create the first tool key. True when a key was created."""
        self.storage.upgrade()
        with self.storage.transaction() as tx:
            return tool_keys.ensure_key(tx, self.box, self.now())

    def rotate_keys(self) -> ToolKeyRecord:
        return rotate_tool_key(self)

    def close(self) -> None:
        for close in self.closers:
            close()
        self.lrs.close()
        self.registrar.close()
        self.http.close()
        self.storage.dispose()
