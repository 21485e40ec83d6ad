"""The settings of one Skillpath process, read from the environment once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
# SKILLPATH_REGISTRATION_APPROVAL: new dynamic registrations wait for an admin, or not.
APPROVAL_MODES = ("admin", "automatic")


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((env[name].strip() for name in names if env.get(name, "").strip()), "")


class SettingsError(ValueError):
    """A `SKILLPATH_*` variable holds a value Skillpath cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about its environment.

    `database_url` and `secret_key` may be left empty: the app fills them from the instance
    folder (SQLite file, generated key) on first start.
    """

    base_url: str = "http://127.0.0.1:5000"
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    instance_path: str = ""
    lrs_endpoint: str = ""
    lrs_username: str = ""
    lrs_password: str = field(default="", repr=False)
    jwt_leeway_seconds: int = 5
    # How long a retired tool key stays in the JWKS after rotation: longer than any token we
    # signed with it can live, plus the time platforms cache our key set.
    key_retention_hours: int = 48
    log_level: str = "INFO"
    embedded_worker: bool = True
    testing: bool = False
    # Whether a platform registered through LTI Dynamic Registration may launch at once
    # ("automatic") or waits until an admin approves it in the console ("admin").
    registration_approval: str = "admin"
    # What the process environment says about outgoing HTTP, read once: with no proxy
    # configured, sessions stop re-reading the environment on every request.
    http_trust_env: bool = True
    ca_bundle: str = ""

    @property
    def registrations_need_approval(self) -> bool:
        return self.registration_approval != "automatic"

    @property
    def is_https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    def url_for_path(self, path: str) -> str:
        """The public URL of one of our routes, as platforms must call it."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str, default: str = "") -> str:
            return env.get("SKILLPATH_" + name, default).strip()

        def integer(name: str, default: int, minimum: int = 0) -> int:
            raw = text(name)
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"SKILLPATH_{name} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise SettingsError(f"SKILLPATH_{name} must be at least {minimum}, got {value}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = text(name).lower()
            if not raw:
                return default
            if raw in ("1", "true", "yes", "on"):
                return True
            if raw in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"SKILLPATH_{name} must be true or false, got {raw!r}")

        base_url = text("BASE_URL", cls.base_url).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(
                f"SKILLPATH_BASE_URL must be an absolute http(s) URL, got {base_url!r}"
            )
        approval = text("REGISTRATION_APPROVAL", cls.registration_approval).lower()
        if approval not in APPROVAL_MODES:
            raise SettingsError(
                f"SKILLPATH_REGISTRATION_APPROVAL must be one of {', '.join(APPROVAL_MODES)}, "
                f"got {approval!r}"
            )
        proxied = any(
            env.get(name, "").strip()
            for name in PROXY_VARIABLES + tuple(n.upper() for n in PROXY_VARIABLES)
        )
        return cls(
            base_url=base_url,
            database_url=text("DATABASE_URL"),
            redis_url=text("REDIS_URL"),
            secret_key=text("SECRET_KEY"),
            instance_path=text("INSTANCE_PATH"),
            lrs_endpoint=text("LRS_ENDPOINT"),
            lrs_username=text("LRS_USERNAME"),
            lrs_password=text("LRS_PASSWORD"),
            jwt_leeway_seconds=integer("JWT_LEEWAY_SECONDS", cls.jwt_leeway_seconds),
            key_retention_hours=integer("KEY_RETENTION_HOURS", cls.key_retention_hours, 1),
            log_level=text("LOG_LEVEL", cls.log_level).upper(),
            embedded_worker=flag("EMBEDDED_WORKER", cls.embedded_worker),
            registration_approval=approval,
            http_trust_env=proxied,
            ca_bundle="" if proxied else _first(env, CA_BUNDLE_VARIABLES),
        )
