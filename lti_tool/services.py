"""What one app instance holds: settings, database, shared store, keys. Built once by
`create_app` (or by a CLI command) and kept in `app.extensions["skillpath"]`."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from config import Settings
from lti_tool import tool_keys
from lti_tool.db import Database
from lti_tool.launch.platform_keys import PlatformKeys
from lti_tool.registrations import DatabaseToolConf
from lti_tool.secrets_at_rest import SecretBox
from lti_tool.sessions import LaunchSessions
from lti_tool.shared_store import SharedStore, make_store
from xapi.http import quiet_session

log = logging.getLogger("skillpath")

USER_AGENT = "Skillpath/0.1 (+LTI 1.3 tool)"


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
class Services:
    settings: Settings
    database: Database
    store: SharedStore
    box: SecretBox
    tool_conf: DatabaseToolConf
    platform_keys: PlatformKeys
    sessions: LaunchSessions
    http: requests.Session

    @classmethod
    def build(cls, settings: Settings) -> Services:
        database = Database(settings.database_url)
        store = make_store(database, settings.redis_url)
        box = SecretBox(settings.secret_key)
        http = quiet_session(requests.Session())
        http.headers["User-Agent"] = USER_AGENT
        services = cls(
            settings=settings,
            database=database,
            store=store,
            box=box,
            tool_conf=None,  # type: ignore[arg-type]
            platform_keys=PlatformKeys(store, http),
            sessions=LaunchSessions(settings.secret_key),
            http=http,
        )
        services.tool_conf = DatabaseToolConf(database, services.signing_key)
        return services

    def signing_key(self) -> tool_keys.SigningKey:
        with self.database.session() as session:
            return tool_keys.signing_key(session, self.box)

    def initialise(self) -> bool:
        """Migrate the schema and create the first tool key. True when a key was created."""
        self.database.upgrade()
        with self.database.session() as session:
            return tool_keys.ensure_key(session, self.box, now())

    def rotate_keys(self) -> tool_keys.ToolKey:
        with self.database.session() as session:
            return tool_keys.rotate(
                session, self.box, now(), timedelta(hours=self.settings.key_retention_hours)
            )

    def close(self) -> None:
        self.http.close()
        self.database.dispose()


def now() -> datetime:
    return datetime.now(UTC)
