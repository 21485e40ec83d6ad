"""`skillpath demo`: Skillpath and a demo LMS on 127.0.0.1, registered with each other."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from config import Settings
from lti_tool.app import create_app
from lti_tool.demo.lessons import lesson_url
from lti_tool.demo.lms import DemoConfig, create_demo_lms, demo_sub, load_or_create_key
from lti_tool.demo.lrs import DemoLrs
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin, admin_accounts

log = logging.getLogger("skillpath.demo")

SAMPLE_CATALOG = Path(__file__).parent / "sample_catalog.json"
CLIENT_ID = "skillpath-demo"
DEPLOYMENT_ID = "demo-deployment"


def run_demo(port: int, lms_port: int) -> None:
    settings = Settings.from_env()
    if settings.base_url == Settings.base_url:
        settings = settings.replace(base_url=f"http://127.0.0.1:{port}")
    tool, lms = prepare_demo(settings, lms_port)
    services = tool.extensions["skillpath"]
    lms_url = f"http://127.0.0.1:{lms_port}"
    console_password = demo_admin(services)
    tool_server = make_server("127.0.0.1", port, tool, threaded=True)
    lms_server = make_server("127.0.0.1", lms_port, lms, threaded=True)
    threading.Thread(target=tool_server.serve_forever, daemon=True).start()
    print(f"\nSkillpath demo is running. Open the demo LMS:\n\n    {lms_url}/\n", flush=True)
    print(
        f"Skillpath's admin console: {services.settings.base_url}/admin (sign in as "
        f"{DEMO_ADMIN} with {console_password}, a password made for this run), or open it "
        "from the demo LMS as its administrator.",
        flush=True,
    )
    print(
        f"(Skillpath itself listens on {services.settings.base_url}; Ctrl-C stops both.)",
        flush=True,
    )
    try:
        lms_server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        lms_server.server_close()
        tool_server.shutdown()
        tool_server.server_close()
        services.close()


DEMO_ADMIN = "admin"


def demo_admin(services: Any) -> str:
    """The demo's local console admin, with a new password at every start (printed)."""
    password = secrets.token_urlsafe(12)
    if any(a.username == DEMO_ADMIN for a in admin_accounts.list_admins(services)):
        admin_accounts.set_password(services, DEMO_ADMIN, password)
    else:
        admin_accounts.create_admin(services, DEMO_ADMIN, password)
    return password


def prepare_demo(settings: Settings, lms_port: int) -> tuple[Flask, Flask]:
    """The tool app (initialised, with the demo LMS registered) and the demo LMS app."""
    tool = create_app(settings, initialise=True)
    services = tool.extensions["skillpath"]
    lms_url = f"http://127.0.0.1:{lms_port}"
    lrs = DemoLrs("demo", secrets.token_urlsafe(16))
    seed_history(lrs, lms_url)
    config = DemoConfig(
        issuer=lms_url,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        tool_login_url=services.settings.url_for_path("/lti/login"),
        tool_launch_url=services.settings.url_for_path("/lti/launch"),
        tool_jwks_url=services.settings.url_for_path("/.well-known/jwks.json"),
        lrs=lrs,
        tool_registration_url=services.settings.url_for_path("/lti/register"),
    )
    tenant = Tenant(lms_url, CLIENT_ID)
    registered = {r.tenant: r for r in admin.list_platforms(services)}.get(tenant)
    if registered is None:
        admin.register_platform(
            services,
            RegistrationInput(
                issuer=lms_url,
                client_id=CLIENT_ID,
                name="Skillpath demo LMS",
                auth_login_url=f"{lms_url}/lms/authorize",
                auth_token_url=f"{lms_url}/lms/token",
                keyset_url=f"{lms_url}/lms/jwks",
                deployments=[DEPLOYMENT_ID],
            ),
        )
    elif DEPLOYMENT_ID not in registered.deployments:
        admin.add_deployment(services, tenant, DEPLOYMENT_ID)
    admin.import_catalog(services, sample_catalog(lms_url))
    # The demo LRS (in the demo LMS process) for this registration; its password is new at
    # every start.
    admin.set_lrs(services, f"{lms_url}/lrs/xapi/", lrs.username, lrs.password, tenant)
    key = load_or_create_key(Path(services.settings.instance_path) / "demo_lms_key.pem")
    lms = create_demo_lms(config, key)

    return tool, lms


def sample_catalog(lms_url: str) -> dict[str, Any]:
    """The sample catalog with each lesson's `url` at the demo LMS, which serves it."""
    document: dict[str, Any] = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    for lesson in document["lessons"]:
        url = lesson_url(lms_url, lesson["id"])
        if url:
            lesson["url"] = url
    return document


# What Alex did before today, in content that reports to the LRS (not through Skillpath).
HISTORY = (
    ("https://lessons.example.org/comm/basics-video", "completed", None, 6),
    ("https://lessons.example.org/comm/basics-text", "passed", 0.9, 5),
    ("https://lessons.example.org/comm/basics-text", "passed", 1.0, 3),
    ("https://lessons.example.org/tools/ticket-triage", "passed", 0.85, 3),
    ("https://lessons.example.org/tools/ticket-triage", "passed", 0.95, 2),
    ("https://lessons.example.org/comm/empathy-practice", "failed", 0.4, 2),
    ("https://lessons.example.org/comm/empathy-practice", "passed", 0.8, 1),
    ("https://lessons.example.org/comm/empathy-practice", "passed", 0.95, 1),
    ("https://lessons.example.org/comm/empathy-practice", "passed", 1.0, 0),
)
VERBS = "http://adlnet.gov/expapi/verbs/"


def seed_history(lrs: DemoLrs, issuer: str) -> None:
    """Alex's history in the demo LRS; Jordan has none (Skillpath starts them from zero)."""
    now = datetime.now(UTC)
    actor = {
        "objectType": "Agent",
        "account": {"homePage": issuer, "name": demo_sub("alex", issuer)},
    }
    for n, (lesson, verb, scaled, days_ago) in enumerate(HISTORY):
        statement: dict[str, Any] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/demo-history/{n}")),
            "actor": actor,
            "verb": {"id": VERBS + verb, "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": lesson},
            "timestamp": (now - timedelta(days=days_ago)).isoformat(timespec="milliseconds"),
        }
        if scaled is not None:
            statement["result"] = {"score": {"scaled": scaled}, "success": verb == "passed"}
        else:
            statement["result"] = {"completion": True}
        lrs.store(statement)
