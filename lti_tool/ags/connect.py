"""Builds AGS clients for a registration from the process's `Services`: one HTTP session
(pooled, with timeouts) and one signing key load shared by all of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pylti1p3.registration import Registration

from lti_tool.ags.client import AgsClient
from lti_tool.ags.tokens import SharedTokenConnector, TimeoutSession
from lti_tool.tool_keys import SigningKey

if TYPE_CHECKING:
    from lti_tool.services import Services

# The signing key is re-read this often, so a rotation reaches running workers.
KEY_REFRESH_SECONDS = 300.0
REGISTRATION_REFRESH_SECONDS = 60.0


class UnknownRegistration(LookupError):
    pass


class ServiceClients:
    """Per-process factory of authorised LTI service clients."""

    def __init__(self, services: Services, pool_size: int = 16) -> None:
        from lti_tool.services import USER_AGENT

        self._services = services
        self.session = TimeoutSession(pool_size=pool_size, user_agent=USER_AGENT)
        self._key: SigningKey | None = None
        self._key_loaded_at = 0.0
        self._key_lock = threading.Lock()
        self._registrations: dict[tuple[str, str], tuple[float, Registration]] = {}

    def signing_key(self) -> SigningKey:
        with self._key_lock:
            if self._key is None or time.monotonic() - self._key_loaded_at > KEY_REFRESH_SECONDS:
                self._key = self._services.signing_key()
                self._key_loaded_at = time.monotonic()
            return self._key

    def registration(self, issuer: str, client_id: str) -> Registration:
        """The registration, looked up at most every REGISTRATION_REFRESH_SECONDS."""
        now = time.monotonic()
        cached = self._registrations.get((issuer, client_id))
        if cached is not None and now - cached[0] < REGISTRATION_REFRESH_SECONDS:
            return cached[1]
        registration = self._services.tool_conf.find_registration_by_params(issuer, client_id)
        if registration is None:
            raise UnknownRegistration(
                f"no platform registered with issuer {issuer!r} and client id {client_id!r}"
            )
        self._registrations[(issuer, client_id)] = (now, registration)
        return registration

    def connector(self, issuer: str, client_id: str) -> SharedTokenConnector:
        registration = self.registration(issuer, client_id)
        return SharedTokenConnector(
            registration, self._services.store, self.signing_key, self.session
        )

    def ags(self, issuer: str, client_id: str, scopes: Sequence[str]) -> AgsClient:
        return AgsClient(
            self.connector(issuer, client_id), tuple(sorted(set(scopes))), self._services.store
        )

    def close(self) -> None:
        self.session.close()
