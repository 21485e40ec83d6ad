"""The admin console over HTTP: signing in (argon2 hashes, one answer for any wrong part,
rate-limited), forged and replayed forms refused, registrations approved, disabled, removed,
deployments and LMS family edited, key rotation, the outbox retried, everything audited, and
the console kept out of other sites' frames."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin, admin_accounts, registrations
from lti_tool.usecases.audit import AdminActor
from tests.lti_tool.db import container_of
from tests.lti_tool.web.console_client import PASSWORD, Console, hidden_fields

LMS = Tenant("https://lms.example.edu", "c-1")


@pytest.fixture
def console(app: Flask, client: FlaskClient) -> Console:
    admin_accounts.create_admin(container_of(app), "alice", PASSWORD)
    return Console(client)


def registered(app: Flask, status: str = "active", client_id: str = "c-1") -> int:
    record = admin.register_platform(
        container_of(app),
        RegistrationInput(
            issuer=LMS.issuer,
            client_id=client_id,
            auth_login_url="https://lms.example.edu/auth",
            auth_token_url="https://lms.example.edu/token",
            keyset_url="https://lms.example.edu/jwks",
            deployments=["d-1"],
            name="Our Moodle",
        ),
    )
    if status == "pending":
        with container_of(app).storage.transaction() as tx:
            tx.registrations.set_status(record.tenant, "pending")
    return record.id


def audit_actions(app: Flask) -> list[str]:
    with container_of(app).storage.transaction() as tx:
        return [f"{a.actor}: {a.action}" for a in tx.audit.recent(None, 100)]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_the_console_asks_who_you_are(console: Console) -> None:
    answer = console.get("/admin/keys")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/login?next=/admin/keys")


def test_signing_in(console: Console, app: Flask) -> None:
    wrong_password = console.sign_in(password="not the password at all")
    wrong_user = console.sign_in(username="mallory")
    for refused in (wrong_password, wrong_user):
        assert refused.status_code == 401
        assert "Wrong username or password." in text(refused)
    signed_in = console.sign_in()
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/admin/"
    page = console.get("/admin/")
    assert page.status_code == 200 and "local admin alice" in text(page)
    assert "local admin alice: admin.sign_in" in audit_actions(app)
    with container_of(app).storage.transaction() as tx:
        stored = tx.admins.find("alice")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    logout = console.post("/admin/", "/admin/logout")
    assert logout.status_code == 303 and console.get("/admin/").status_code == 302


def test_signing_in_is_rate_limited(console: Console) -> None:
    for _ in range(5):
        assert console.sign_in(password="wrong password, again").status_code == 401
    limited = console.sign_in()
    assert limited.status_code == 429
    assert "Too many sign-in attempts from here" in text(limited)


def test_after_signing_in_the_console_sends_you_on(console: Console) -> None:
    page = console.get("/admin/login?next=/admin/audit")
    fields = hidden_fields(text(page), "/admin/login")
    fields.update(username="alice", password=PASSWORD)
    went = console.client.post("/admin/login?next=/admin/audit", data=fields)
    assert went.headers["Location"] == "/admin/audit"
    elsewhere = console.client.get("/admin/login?next=https://evil.example/")
    fields = hidden_fields(text(elsewhere), "/admin/login")
    fields.update(username="alice", password=PASSWORD)
    stayed = console.client.post("/admin/login?next=https://evil.example/", data=fields)
    assert stayed.headers["Location"] == "/admin/"


def test_forged_and_replayed_forms_are_refused(console: Console, app: Flask) -> None:
    key = registered(app)
    console.sign_in()
    page = text(console.get(f"/admin/registrations/{key}"))
    action = f"/admin/registrations/{key}/deployments"
    fields = hidden_fields(page, action, 1)  # the form that adds one

    forged = console.client.post(action, data={"deployment_id": "d-forged"})
    assert forged.status_code == 400 and "CSRF" in text(forged)
    no_once = console.client.post(
        action, data={"csrf_token": fields["csrf_token"], "deployment_id": "d-forged"}
    )
    assert no_once.status_code == 400 and "already sent" in text(no_once)

    sent = console.client.post(action, data={**fields, "deployment_id": "d-2"})
    assert sent.status_code == 303
    replayed = console.client.post(action, data={**fields, "deployment_id": "d-3"})
    assert replayed.status_code == 400 and "(stale_form)" in text(replayed)
    with container_of(app).storage.transaction() as tx:
        found = tx.registrations.find(LMS)
    assert found is not None and found.deployments == ("d-1", "d-2")

    # A form made for one session is refused in another.
    other = app.test_client()
    Console(other).sign_in()
    stolen = other.post(action, data={**hidden_fields(page, action, 1), "deployment_id": "d-4"})
    assert stolen.status_code == 400


def test_approving_disabling_and_removing(console: Console, app: Flask) -> None:
    key = registered(app, "pending")
    console.sign_in()
    overview = text(console.get("/admin/"))
    assert 'data-testid="pending"' in overview and "Our Moodle" in overview
    approved = console.post("/admin/", f"/admin/registrations/{key}/status", {"change": "approve"})
    assert approved.status_code == 303
    page = text(console.get(f"/admin/registrations/{key}"))
    assert "Our Moodle is now active." in page
    again = console.post(
        f"/admin/registrations/{key}", f"/admin/registrations/{key}/status", {"change": "enable"}
    )
    assert again.status_code == 303
    assert "is active: it cannot be enabled" in text(console.get(f"/admin/registrations/{key}"))
    console.post(
        f"/admin/registrations/{key}", f"/admin/registrations/{key}/status", {"change": "disable"}
    )
    with container_of(app).storage.transaction() as tx:
        assert tx.registrations.find(LMS).status == "disabled"  # type: ignore[union-attr]

    unconfirmed = console.post(f"/admin/registrations/{key}", f"/admin/registrations/{key}/remove")
    assert unconfirmed.status_code == 303
    assert admin.list_platforms(container_of(app))
    removed = console.post(
        f"/admin/registrations/{key}", f"/admin/registrations/{key}/remove", {"confirm": "yes"}
    )
    assert removed.status_code == 303 and admin.list_platforms(container_of(app)) == []
    assert console.get(f"/admin/registrations/{key}").status_code == 404
    actions = audit_actions(app)
    for action in ("platform.approve", "platform.disable", "platform.remove"):
        assert f"local admin alice: {action}" in actions


def test_deployments_and_lms_family(console: Console, app: Flask) -> None:
    key = registered(app)
    console.sign_in()
    page = f"/admin/registrations/{key}"
    console.post(page, f"{page}/deployments", {"deployment_id": "d-2"}, index=1)
    console.post(page, f"{page}/deployments", {"deployment_id": "d-1", "action": "remove"})
    duplicate = console.post(page, f"{page}/deployments", {"deployment_id": "d-2"}, index=1)
    assert duplicate.status_code == 303
    assert "already registered" in text(console.get(page))
    console.post(page, f"{page}/lms", {"family": "moodle"})
    with container_of(app).storage.transaction() as tx:
        found = tx.registrations.find(LMS)
    assert found is not None
    assert (found.deployments, found.product_family_code) == (("d-2",), "moodle")


def test_adding_a_platform_by_hand(console: Console, app: Flask) -> None:
    console.sign_in()
    bad = console.post(
        "/admin/registrations/new",
        "/admin/registrations/new",
        {
            "issuer": "https://lms.example.edu",
            "client_id": "c-9",
            "auth_login_url": "not a url",
            "auth_token_url": "https://lms.example.edu/token",
            "keyset_url": "https://lms.example.edu/jwks",
        },
    )
    assert bad.status_code == 400 and "auth-login-url must be an absolute http(s) URL" in text(bad)
    assert admin.list_platforms(container_of(app)) == []
    good = console.post(
        "/admin/registrations/new",
        "/admin/registrations/new",
        {
            "name": "Brightspace",
            "issuer": "https://d2l.example.edu",
            "client_id": "c-9",
            "auth_login_url": "https://d2l.example.edu/d2l/lti/authenticate",
            "auth_token_url": "https://auth.brightspace.com/core/connect/token",
            "keyset_url": "https://d2l.example.edu/d2l/.well-known/jwks",
            "auth_audience": "https://api.brightspace.com/auth/token",
            "deployment_id": "dep-a",
            "family": "brightspace",
        },
    )
    assert good.status_code == 303
    (added,) = admin.list_platforms(container_of(app))
    assert added.auth_audience == "https://api.brightspace.com/auth/token"
    assert (added.deployments, added.product_family_code) == (("dep-a",), "brightspace")


def test_rotating_the_key(console: Console, app: Flask) -> None:
    console.sign_in()
    before = text(console.get("/admin/keys"))
    rotated = console.post("/admin/keys", "/admin/keys/rotate")
    assert rotated.status_code == 303
    after = text(console.get("/admin/keys"))
    kids = re.findall(r"<code>([0-9a-f]{32})</code>", after)
    assert len(kids) == 2 and kids[1] in before
    assert "retired, published until" in after
    jwks = console.get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == kids


def test_retrying_a_failed_grade(console: Console, app: Flask) -> None:
    key = registered(app)
    ports = container_of(app)
    with ports.storage.transaction() as tx:
        item = tx.outbox.enqueue(
            "ags_score",
            {"issuer": LMS.issuer, "client_id": LMS.client_id, "score": {"userId": "u"}},
            now=ports.now(),
        )
        lease = tx.outbox.claim(now=ports.now(), limit=1, lease=timedelta(minutes=1))
        tx.outbox.finish(
            item,
            lease.token,
            "failed",
            now=ports.now(),
            error="the platform refused the score",
            request_summary="POST scores",
            response_status=422,
            response_body='{"error": "user not in course"}',
        )
    console.sign_in()
    page = text(console.get("/admin/outbox?status=failed"))
    assert f'data-item="{item}"' in page and "HTTP 422" in page and "user not in course" in page
    retried = console.post(
        "/admin/outbox?status=failed", "/admin/outbox/retry", {"item": str(item)}, index=1
    )
    assert retried.status_code == 303
    with ports.storage.transaction() as tx:
        (entry,) = tx.outbox.entries(limit=5)
    assert entry.status == "pending"
    assert "local admin alice: outbox.retry" in audit_actions(app)
    assert key


def test_the_console_stays_out_of_frames(console: Console) -> None:
    for page in ("/admin/login", "/admin/keys"):
        answer = console.get(page)
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert answer.headers["Cache-Control"] == "no-store"


def test_an_lms_administrator_sees_one_registration(app: Flask, client: FlaskClient) -> None:
    """The scope of an LMS administrator's console session (entered by a ticket; the launch
    that makes one is tested with the platform peer)."""
    own = registered(app)
    other = registered(app, client_id="c-2")
    ports = container_of(app)
    ticket = "t-" + "x" * 20
    ports.store.put(
        "console-ticket:" + ticket,
        admin_accounts.ConsoleSession(
            "lti",
            "An administrator (administrator of Our Moodle)",
            issuer=LMS.issuer,
            client_id="c-1",
        ).to_dict(),
        60,
    )
    entered = client.get(f"/admin/enter?ticket={ticket}")
    assert entered.status_code == 303
    assert client.get(f"/admin/enter?ticket={ticket}").status_code == 401  # once
    assert client.get("/admin/").headers["Location"] == f"/admin/registrations/{own}"
    assert client.get(f"/admin/registrations/{own}").status_code == 200
    assert client.get(f"/admin/registrations/{other}").status_code == 404
    assert client.get("/admin/registrations/default").status_code == 404
    assert client.get("/admin/keys").status_code == 403
    # Disabling the registration ends its administrators' console sessions.
    registrations.change_status(ports, Tenant(LMS.issuer, "c-1"), "disable", AdminActor("test"))
    assert client.get(f"/admin/registrations/{own}").status_code == 302


def test_admin_accounts_from_the_command_line(cli: Any, app: Flask) -> None:
    created = cli("admin", "create", "--username", "bob", "--password-stdin")
    assert created.exit_code != 0  # nothing on stdin: too short
    from click.testing import CliRunner

    from lti_tool.cli import main

    runner = CliRunner()
    env = {
        "SKILLPATH_DATABASE_URL": container_of(app).settings.database_url,
        "SKILLPATH_SECRET_KEY": container_of(app).settings.secret_key,
        "SKILLPATH_INSTANCE_PATH": container_of(app).settings.instance_path,
    }
    made = runner.invoke(
        main,
        ["admin", "create", "--username", "bob", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "created admin bob" in made.output and PASSWORD not in made.output
    prompted = runner.invoke(
        main, ["admin", "create", "--username", "carol"], input=f"{PASSWORD}\n{PASSWORD}\n", env=env
    )
    assert prompted.exit_code == 0, prompted.output
    twice = runner.invoke(
        main,
        ["admin", "create", "--username", "bob", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert twice.exit_code == 1 and "an admin named 'bob' already exists" in twice.output
    short = runner.invoke(
        main, ["admin", "create", "--username", "dan", "--password-stdin"], input="short\n", env=env
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    weird = runner.invoke(
        main,
        ["admin", "create", "--username", "a b", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert weird.exit_code == 1 and len(weird.output.strip().splitlines()) == 1
    listed = runner.invoke(main, ["admin", "list"], env=env)
    assert "bob" in listed.output and "carol" in listed.output
