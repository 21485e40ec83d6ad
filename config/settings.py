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


LOG_FORMATS = ("json", "text")


def _choice(value: str, name: str) -> str:
    if value not in LOG_FORMATS:
        raise SettingsError(
            f"SKILLPATH_{name} must be one of {', '.join(LOG_FORMATS)}, got {value!r}"
        )
    return value


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
    # "json" (one object per line, with the request id) or "text" (for a terminal).
    log_format: str = "json"
    # When set, GET /metrics wants `Authorization: Bearer <this>`.
    metrics_token: str = field(default="", repr=False)
    # How long a worker holds an outbox item before another may take it (renewed while a
    # delivery runs): a killed worker's items move on after this.
    outbox_lease_seconds: int = 15
    # prometheus-client's multi-process folder (its own variable, PROMETHEUS_MULTIPROC_DIR;
    # `skillpath serve` sets it up for its workers): /metrics then merges every process.
    metrics_dir: str = ""
    embedded_worker: bool = True
    testing: bool = False
    # Whether a platform registered through LTI Dynamic Registration may launch at once
    # ("automatic") or waits until an admin approves it in the console ("admin").
    registration_approval: str = "admin"
    # What the process environment says about outgoing HTTP, read once: with no proxy
    # configured, sessions stop re-reading the environment on every request.
    http_trust_env: bool = True
    ca_bundle: str = ""
    # Input limits (lti_tool/inputs.py, lti_tool/web/limits.py): a catalog's size in bytes and
    # how many competencies, lessons and pathways it may list; rate limits per client address
    # (per session for the API) in flask-limiter's notation, "off" for none.
    catalog_max_bytes: int = 5_000_000
    catalog_max_items: int = 2_000
    rate_limit_login: str = "1200 per minute"
    rate_limit_launch: str = "1200 per minute"
    rate_limit_api: str = "600 per minute"
    rate_limit_admin_login: str = "5 per minute"
    # How many reverse proxies in front of Skillpath set X-Forwarded-For (the rate limits count
    # the address they name); 0: none, the peer's address counts.
    trusted_proxies: int = 0
    # Origins besides the registered platforms' that may frame the pages (Content-Security-
    # Policy frame-ancestors), e.g. "https://*.instructure.com" for every Canvas instance.
    frame_ancestors: tuple[str, ...] = ()

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

        def rate(name: str, default: str) -> str:
            raw = text(name, default)
            if raw.lower() == "off":
                return "off"
            try:
                from limits import parse_many

                parse_many(raw)
            except ValueError:
                raise SettingsError(
                    f"SKILLPATH_{name} must be a rate such as '600 per minute' or 'off', got {raw!r}"
                ) from None
            return raw

        def origins(name: str) -> tuple[str, ...]:
            found = tuple(o for o in text(name).replace(",", " ").split() if o)
            for origin in found:
                parts = urlsplit(origin.replace("*.", "wildcard."))
                if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                    raise SettingsError(
                        f"SKILLPATH_{name} must list origins such as https://lms.example.edu, "
                        f"got {origin!r}"
                    )
            return found

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
            log_format=_choice(text("LOG_FORMAT", cls.log_format).lower(), "LOG_FORMAT"),
            metrics_token=text("METRICS_TOKEN"),
            outbox_lease_seconds=integer("OUTBOX_LEASE_SECONDS", cls.outbox_lease_seconds, 1),
            metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
            embedded_worker=flag("EMBEDDED_WORKER", cls.embedded_worker),
            registration_approval=approval,
            http_trust_env=proxied,
            ca_bundle="" if proxied else _first(env, CA_BUNDLE_VARIABLES),
            catalog_max_bytes=integer("CATALOG_MAX_BYTES", cls.catalog_max_bytes, 1),
            catalog_max_items=integer("CATALOG_MAX_ITEMS", cls.catalog_max_items, 1),
            rate_limit_login=rate("RATE_LIMIT_LOGIN", cls.rate_limit_login),
            rate_limit_launch=rate("RATE_LIMIT_LAUNCH", cls.rate_limit_launch),
            rate_limit_api=rate("RATE_LIMIT_API", cls.rate_limit_api),
            rate_limit_admin_login=rate("RATE_LIMIT_ADMIN_LOGIN", cls.rate_limit_admin_login),
            trusted_proxies=integer("TRUSTED_PROXIES", cls.trusted_proxies),
            frame_ancestors=origins("FRAME_ANCESTORS"),
        )
