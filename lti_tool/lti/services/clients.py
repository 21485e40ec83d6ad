"""Authorised LTI Advantage service clients for a registration, built from what the container
holds once per process: one HTTP session, the token and line-item caches, the tool key."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import requests
from pylti1p3.registration import Registration

from lti_tool.errors import UnknownRegistration
from lti_tool.lti.registrations import DatabaseToolConf
from lti_tool.lti.services.ags import AgsClient, LineItemCache
from lti_tool.lti.services.tokens import SharedTokenConnector, TokenCache
from lti_tool.lti.tool_keys import SigningKey
from lti_tool.storage import SharedStore, Tenant

REGISTRATION_REFRESH_SECONDS = 60.0


class ServiceClients:
    """Per-process factory of authorised LTI service clients."""

    def __init__(
        self,
        tool_conf: DatabaseToolConf,
        store: SharedStore,
        signing_key: Callable[[], SigningKey],
        session: requests.Session,
        tokens: TokenCache | None = None,
        line_items: LineItemCache | None = None,
    ) -> None:
        self._tool_conf = tool_conf
        self._store = store
        self.signing_key = signing_key
        self.session = session
        self.tokens = tokens or TokenCache()
        self.line_items = line_items or LineItemCache()
        self._registrations: dict[Tenant, tuple[float, Registration]] = {}

    def registration(self, tenant: Tenant) -> Registration:
        """The registration, looked up at most every REGISTRATION_REFRESH_SECONDS."""
        now = time.monotonic()
        cached = self._registrations.get(tenant)
        if cached is not None and now - cached[0] < REGISTRATION_REFRESH_SECONDS:
            return cached[1]
        registration = self._tool_conf.find_registration_by_params(tenant.issuer, tenant.client_id)
        if registration is None:
            self._registrations.pop(tenant, None)
            raise UnknownRegistration(
                f"no platform registered with issuer {tenant.issuer!r} and client id "
                f"{tenant.client_id!r}"
            )
        self._registrations[tenant] = (now, registration)
        return registration

    def connector(
        self, tenant: Tenant, timeout: tuple[float, float] | None = None
    ) -> SharedTokenConnector:
        """`timeout` bounds each call (a page waiting on the LMS); None: the session's."""
        return SharedTokenConnector(
            self.registration(tenant),
            self._store,
            self.signing_key,
            self.session,
            self.tokens,
            timeout=timeout,
        )

    def ags(self, tenant: Tenant, scopes: Sequence[str]) -> AgsClient:
        return AgsClient(
            self.connector(tenant), tuple(sorted(set(scopes))), self._store, self.line_items
        )
