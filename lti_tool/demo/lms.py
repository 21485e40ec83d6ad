"""A demo LMS for `skillpath demo`: a course page that launches Skillpath with real, signed
LTI 1.3 messages (OIDC login, id_token form post), so a newcomer sees the whole flow on one
machine. It is a teaching aid, not a platform implementation: the tests launch from a real
third-party platform instead (see tests/peers/)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response

from lti_tool.demo.lessons import lessons_blueprint
from lti_tool.demo.lrs import DemoLrs, lrs_blueprint
from lti_tool.demo.registration import DemoTool, DemoTools, registration_blueprint
from lti_tool.demo.services import AGS_SCOPES, demo_services

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
ROLE_URIS = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
    "administrator": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
}


@dataclass(frozen=True)
class DemoUser:
    login: str
    role: str
    name: str | None
    email: str | None


USERS = {
    u.login: u
    for u in (
        DemoUser("alex", "learner", "Alex Rivera", "alex@demo.invalid"),
        DemoUser("jordan", "learner", None, None),  # a platform that withholds names
        DemoUser("sam", "instructor", "Sam Lee", "sam@demo.invalid"),
    )
}
# The LMS's administrator: opens Skillpath's admin console, is no member of the course.
ADMIN = DemoUser("dana", "administrator", "Dana Admin", "dana@demo.invalid")
COURSE = {"id": "course-101", "title": "Customer Support Onboarding", "label": "CS-101"}
RESOURCE_LINK = {"id": "skillpath-link-1", "title": "Your Skillpath"}


@dataclass(frozen=True)
class DemoConfig:
    issuer: str
    client_id: str
    deployment_id: str
    tool_login_url: str
    tool_launch_url: str
    tool_jwks_url: str = ""
    lrs: DemoLrs | None = None
    # Where the admin's "register a tool by URL" points by default.
    tool_registration_url: str = ""


def demo_sub(login: str, issuer: str) -> str:
    """The LTI `sub` the demo LMS gives a user (stable per LMS address)."""
    return login + "-" + uuid.uuid5(uuid.NAMESPACE_URL, issuer).hex[:8]


def members(issuer: str) -> list[dict[str, Any]]:
    """The demo course's people, as Names and Role Provisioning lists them."""
    found = []
    for user in USERS.values():  # the course's people (not the LMS's administrator)
        member: dict[str, Any] = {
            "user_id": demo_sub(user.login, issuer),
            "roles": ROLE_URIS[user.role],
            "status": "Active",
        }
        if user.name:
            member |= {"name": user.name, "email": user.email}
        found.append(member)
    return found


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """The demo LMS keeps its key across restarts so the tool's JWKS cache stays valid."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key


def create_demo_lms(config: DemoConfig, key: rsa.RSAPrivateKey) -> Flask:
    app = Flask(__name__, template_folder="templates")
    public_jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    kid = "demo-" + public_jwk["n"][:16]
    public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})

    tools = DemoTools()
    tools.add(
        DemoTool(
            client_id=config.client_id,
            deployment_id=config.deployment_id,
            name="Skillpath",
            login_url=config.tool_login_url,
            launch_url=config.tool_launch_url,
            jwks_url=config.tool_jwks_url,
            redirect_uris=frozenset({config.tool_launch_url}),
        )
    )
    people = {**USERS, ADMIN.login: ADMIN}

    @app.get("/")
    def course() -> str:
        return render_template(
            "course.html",
            course=COURSE,
            users=USERS.values(),
            admin=ADMIN,
            default_tool=config.client_id,
            by_url=tools.registered_by_url(),
            registration_url=config.tool_registration_url,
        )

    @app.get("/lms/launch/<login>")
    def start_launch(login: str) -> Response:
        tool = tools.get(request.args.get("tool", config.client_id))
        if login not in people or tool is None:
            abort(404)
        console = request.args.get("target") == "admin"
        params = {
            "iss": config.issuer,
            "login_hint": login,
            "lti_message_hint": "console" if console else RESOURCE_LINK["id"],
            "target_link_uri": tool.admin_url if console else tool.launch_url,
            "client_id": tool.client_id,
            "lti_deployment_id": tool.deployment_id,
        }
        return redirect(tool.login_url + "?" + urlencode(params))

    @app.get("/lms/authorize")
    def authorize() -> tuple[str, int] | str:
        args = request.args
        user = people.get(args.get("login_hint", ""))
        tool = tools.get(args.get("client_id", ""))
        problems = [
            problem
            for problem, failed in (
                ("unknown client_id", tool is None),
                (
                    "redirect_uri not registered",
                    tool is not None and args.get("redirect_uri") not in tool.redirect_uris,
                ),
                ("response_type must be id_token", args.get("response_type") != "id_token"),
                ("scope must be openid", args.get("scope") != "openid"),
                ("unknown user", user is None),
                ("no nonce", not args.get("nonce")),
            )
            if failed
        ]
        if problems or user is None or tool is None:
            return "Demo LMS refused the login: " + ", ".join(problems), 400
        console = args.get("lti_message_hint") == "console"
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": config.issuer,
            "aud": tool.client_id,
            "azp": tool.client_id,
            "sub": demo_sub(user.login, config.issuer),
            "iat": now,
            "exp": now + 300,
            "nonce": args["nonce"],
            LTI + "version": "1.3.0",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "deployment_id": tool.deployment_id,
            LTI + "target_link_uri": tool.admin_url if console else tool.launch_url,
            LTI + "roles": ROLE_URIS[user.role],
            LTI + "context": {
                **COURSE,
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            LTI + "resource_link": RESOURCE_LINK,
            LTI + "launch_presentation": {"document_target": "iframe"},
            LTI + "tool_platform": {
                "guid": "demo-lms",
                "name": "Skillpath demo LMS",
                "product_family_code": "skillpath-demo",
            },
            # One gradebook column per competency: the demo's gradebook moves with each lesson.
            LTI + "custom": {"competency_grades": "yes"},
            AGS_CLAIM: {
                "scope": list(AGS_SCOPES),
                "lineitems": f"{config.issuer}/lms/ags/{COURSE['id']}/lineitems",
            },
            NRPS_CLAIM: {
                "context_memberships_url": f"{config.issuer}/lms/nrps/{COURSE['id']}/memberships",
                "service_versions": ["2.0"],
            },
        }
        if user.name:
            claims["name"] = user.name
            claims["email"] = user.email
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        return render_template(
            "autopost.html",
            action=args["redirect_uri"],
            fields={"id_token": id_token, "state": args.get("state", "")},
        )

    @app.get("/lms/jwks")
    def jwks() -> Response:
        return jsonify({"keys": [public_jwk]})

    app.register_blueprint(registration_blueprint(config.issuer, tools))
    if config.tool_jwks_url:
        services, _ = demo_services(
            issuer=config.issuer,
            client_ids=tools.client_ids,
            tool_jwks_url=config.tool_jwks_url,
            course=COURSE,
            members=lambda: members(config.issuer),
        )
        app.register_blueprint(services)
    if config.lrs is not None:
        app.register_blueprint(lrs_blueprint(config.lrs))
        # The lessons of the sample catalog report to the demo LRS, as real content does.
        app.register_blueprint(lessons_blueprint(config.lrs.store))
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    return app
