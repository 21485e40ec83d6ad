"""The two steps of a launch: begin the OIDC login, complete the launch; and the launch a
session names.

`LaunchFlow` is built once by the container; the LTI views call it and render. It holds the
rules (what gets stored, what gets logged on rejection)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from flask import Request
from pylti1p3.contrib.flask import FlaskRequest, FlaskSessionService

from config import Settings
from lti_tool.errors import LaunchRejected, NotAuthenticated, NotFound
from lti_tool.inputs import printable
from lti_tool.lti.claims import LaunchClaims
from lti_tool.lti.client_storage import StorageLogin
from lti_tool.lti.cookies import StateCookies
from lti_tool.lti.launch import SkillpathMessageLaunch
from lti_tool.lti.login import SkillpathOIDCLogin
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.platforms import read_launch
from lti_tool.lti.registrations import DatabaseToolConf
from lti_tool.lti.sessions import LaunchSessions
from lti_tool.storage import LaunchRecord, SharedStore, Storage

log = logging.getLogger("skillpath.launch")


def _lti_request(request: Request) -> FlaskRequest:
    data = request.args if request.method == "GET" else request.form
    # An empty dict would make pylti1p3 fall back to the live request; pass a marker then.
    return FlaskRequest(request_data=data.to_dict() or {"": ""}, cookies=request.cookies)


@dataclass(frozen=True)
class LoginStep:
    """Where the login goes on to, what to store in the platform's frame first (None: go on
    at once) and the state cookie to set."""

    redirect_url: str
    storage: StorageLogin | None
    cookies: StateCookies


@dataclass(frozen=True)
class CompletedLaunch:
    launch: LaunchRecord
    claims: LaunchClaims
    session_token: str
    cookies: StateCookies

    @property
    def launch_id(self) -> str:
        return self.launch.id


class LaunchFlow:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        store: SharedStore,
        tool_conf: DatabaseToolConf,
        platform_keys: PlatformKeys,
        sessions: LaunchSessions,
        http: requests.Session,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._store = store
        self._tool_conf = tool_conf
        self._platform_keys = platform_keys
        self._sessions = sessions
        self._http = http
        self._clock = clock

    def begin_login(self, request: Request) -> LoginStep:
        """Validate the platform's login initiation and store the login: where the browser
        goes next (the platform's authorization endpoint), and what it stores in the
        platform's storage frame first when the platform offers one."""
        cookies = StateCookies(request.cookies, self._settings.is_https)
        login = SkillpathOIDCLogin(
            _lti_request(request),
            self._tool_conf,
            cookie_service=cookies,
            store=self._store,
            base_url=self._settings.base_url,
        )
        try:
            redirect_url = login.prepare(self._settings.url_for_path("/lti/launch"))
        except LaunchRejected as exc:
            _log_rejection(exc, request.values.get("iss"), request.values.get("client_id"))
            raise
        return LoginStep(redirect_url, login.storage_login, cookies)

    def complete_launch(
        self,
        request: Request,
        *,
        fields: dict[str, str] | None = None,
        storage_proof: str | None = None,
    ) -> CompletedLaunch:
        """Validate the id_token and record the launch, or raise `LaunchRejected`.

        `fields` replace the form (a launch resumed without its cookie), `storage_proof` is
        the secret read back from the platform's storage frame.

        Either way the state cookie must go: the cookie service to apply to the response is
        in `CompletedLaunch.cookies`, or in the exception's `details["cookies"]`. A launch
        without its cookie fails with `missing_state_cookie` and, in `details["resume"]`,
        what a page needs to finish it another way."""
        cookies = StateCookies(request.cookies, self._settings.is_https)
        lti_request = (
            _lti_request(request)
            if fields is None
            else FlaskRequest(request_data=dict(fields) or {"": ""}, cookies=request.cookies)
        )
        launch = SkillpathMessageLaunch(
            lti_request,
            self._tool_conf,
            cookie_service=cookies,
            session_service=FlaskSessionService(lti_request),
            store=self._store,
            platform_keys=self._platform_keys,
            base_url=self._settings.base_url,
            leeway_seconds=self._settings.jwt_leeway_seconds,
            http=self._http,
            storage_proof=storage_proof,
        )
        launch.set_launch_id("launch-" + uuid.uuid4().hex)
        try:
            launch.validate()
        except LaunchRejected as exc:
            iss, client_id = launch.unverified_identity()
            _log_rejection(exc, iss, client_id)
            exc.details["cookies"] = cookies
            raise
        reading = read_launch(dict(launch.get_launch_data()), launch.registration_family())
        validated = LaunchClaims.from_body(reading.claims, launch.get_client_id(), reading.role)
        record = _record(launch.get_launch_id(), validated, reading.claims, self._clock())
        with self._storage.transaction() as tx:
            tx.launches.add(record)
        log.info(
            "launch accepted: issuer=%s client_id=%s deployment=%s role=%s message=%s lms=%s%s",
            validated.issuer,
            validated.client_id,
            validated.deployment_id,
            validated.role,
            validated.message_type,
            reading.adapter.name,
            " (from the registration)" if reading.family_from_registration else "",
        )
        return CompletedLaunch(
            launch=record,
            claims=validated,
            session_token=self._sessions.issue(record.id),
            cookies=cookies,
        )

    def launch_of(self, token: str | None, expected_id: str | None = None) -> LaunchRecord:
        """The launch a session token names (and only that one, when `expected_id` is given).
        A launch of a registration that was removed is gone: its sessions end with it."""
        launch_id = self._sessions.launch_id(token)
        if expected_id is not None and launch_id != expected_id:
            raise NotAuthenticated()
        with self._storage.reading() as tx:
            launch = tx.launches.get(launch_id)
        if launch is None:
            raise NotFound("This launch is no longer known: open the link in your course again.")
        return launch


def _record(
    launch_id: str, claims: LaunchClaims, body: dict[str, Any], now: datetime
) -> LaunchRecord:
    return LaunchRecord(
        id=launch_id,
        issuer=claims.issuer,
        client_id=claims.client_id,
        deployment_id=claims.deployment_id,
        message_type=claims.message_type,
        subject=claims.subject,
        role=claims.role,
        user_name=claims.name,
        context_id=claims.context_id,
        context_title=claims.context_title,
        resource_link_id=claims.resource_link_id,
        resource_link_title=claims.resource_link_title,
        claims=dict(body),
        created_at=now,
    )


def _log_rejection(exc: LaunchRejected, issuer: str | None, client_id: str | None) -> None:
    # The issuer and client id are unverified and the reason may quote the token: one safe
    # line (a lone surrogate would break a UTF-8 log stream).
    log.warning(
        "launch rejected: code=%s issuer=%s client_id=%s reason=%s",
        exc.code,
        printable(issuer or "-", 200),
        printable(client_id or "-", 200),
        printable(exc.message, 500),
    )
