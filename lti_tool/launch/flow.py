"""The two steps of a launch as use cases: begin the OIDC login, complete the launch.

The Flask views call these and render; these hold the rules (what gets stored, what gets
logged on rejection)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask import Request, Response
from pylti1p3.contrib.flask import FlaskRequest, FlaskSessionService
from sqlalchemy import Table, insert

from lti_tool.errors import LaunchRejected
from lti_tool.launch.claims import LaunchClaims
from lti_tool.launch.cookies import StateCookies
from lti_tool.launch.login import SkillpathOIDCLogin
from lti_tool.launch.message import SkillpathMessageLaunch
from lti_tool.models import Launch
from lti_tool.services import Services

log = logging.getLogger("skillpath.launch")


def _lti_request(request: Request) -> FlaskRequest:
    data = request.args if request.method == "GET" else request.form
    # An empty dict would make pylti1p3 fall back to the live request; pass a marker then.
    return FlaskRequest(request_data=data.to_dict() or {"": ""}, cookies=request.cookies)


def begin_login(services: Services, request: Request) -> Response:
    """Validate the platform's login initiation and redirect to its authorization endpoint."""
    cookies = StateCookies(request.cookies, services.settings.is_https)
    login = SkillpathOIDCLogin(
        _lti_request(request),
        services.tool_conf,
        cookie_service=cookies,
        store=services.store,
        base_url=services.settings.base_url,
    )
    try:
        response: Response = login.redirect(services.settings.url_for_path("/lti/launch"))
    except LaunchRejected as exc:
        _log_rejection(exc, request.values.get("iss"), request.values.get("client_id"))
        raise
    return response


@dataclass(frozen=True)
class CompletedLaunch:
    launch_id: str
    claims: LaunchClaims
    session_token: str
    cookies: StateCookies


def complete_launch(services: Services, request: Request) -> CompletedLaunch:
    """Validate the id_token and record the launch, or raise `LaunchRejected`.

    Either way the state cookie must go: the cookie service to apply to the response is in
    `CompletedLaunch.cookies`, or in the exception's `details["cookies"]`."""
    cookies = StateCookies(request.cookies, services.settings.is_https)
    lti_request = _lti_request(request)
    session_service = FlaskSessionService(lti_request)
    launch = SkillpathMessageLaunch(
        lti_request,
        services.tool_conf,
        cookie_service=cookies,
        session_service=session_service,
        store=services.store,
        platform_keys=services.platform_keys,
        base_url=services.settings.base_url,
        leeway_seconds=services.settings.jwt_leeway_seconds,
        http=services.http,
    )
    launch.set_launch_id("launch-" + uuid.uuid4().hex)
    try:
        launch.validate()
    except LaunchRejected as exc:
        iss, client_id = launch.unverified_identity()
        _log_rejection(exc, iss, client_id)
        exc.details["cookies"] = cookies
        raise
    validated = launch.claims()
    launch_id = launch.get_launch_id()
    _record(services, launch_id, validated, dict(launch.get_launch_data()))
    log.info(
        "launch accepted: issuer=%s client_id=%s deployment=%s role=%s message=%s",
        validated.issuer,
        validated.client_id,
        validated.deployment_id,
        validated.role,
        validated.message_type,
    )
    return CompletedLaunch(
        launch_id=launch_id,
        claims=validated,
        session_token=services.sessions.issue(launch_id),
        cookies=cookies,
    )


# On the table, not the ORM class: the ORM's bulk machinery costs more than the insert.
_INSERT_LAUNCH = insert(cast(Table, Launch.__table__))


def _record(services: Services, launch_id: str, claims: LaunchClaims, body: dict[str, Any]) -> None:
    with services.database.engine.begin() as connection:
        connection.execute(
            _INSERT_LAUNCH,
            dict(
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
                created_at=datetime.now(UTC),
            ),
        )


def _log_rejection(exc: LaunchRejected, issuer: str | None, client_id: str | None) -> None:
    log.warning(
        "launch rejected: code=%s issuer=%s client_id=%s reason=%s",
        exc.code,
        issuer or "-",
        client_id or "-",
        exc.message,
    )


def load_launch(services: Services, launch_id: str) -> Launch | None:
    with services.database.session() as session:
        return session.get(Launch, launch_id)
