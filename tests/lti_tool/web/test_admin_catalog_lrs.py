"""The console's catalog upload (validation report by JSON path, the diff an update makes,
refused files importing nothing) and LRS connection (tested against the real Learning Locker
peer before it is saved; the password never comes back out)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from lti_tool.storage import Tenant
from lti_tool.usecases import admin_accounts
from peers.lrs import LrsPeer
from peers.tool_server import free_port
from tests.lti_tool.db import container_of
from tests.lti_tool.web.console_client import PASSWORD, Console, hidden_fields, multipart
from tests.peers.lrs_fixtures import learning_locker  # noqa: F401

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "catalog-example.json"
PAGE = "/admin/registrations/default"
UPLOAD = "/admin/registrations/default/catalog"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An installation taking catalogs up to 512 KB (the console and the command alike)."""
    return settings.replace(catalog_max_bytes=512 * 1024)


@pytest.fixture
def console(app: Flask, client: FlaskClient) -> Console:
    admin_accounts.create_admin(container_of(app), "alice", PASSWORD)
    signed = Console(client)
    signed.sign_in()
    return signed


def upload(console: Console, data: bytes, name: str = "catalog.json") -> Any:
    shown = console.get(PAGE).get_data(as_text=True)
    body, content_type = multipart(hidden_fields(shown, UPLOAD), {"catalog": (data, name)})
    return console.client.post(UPLOAD, data=body, content_type=content_type)


def stored_catalog(app: Flask) -> Any:
    with container_of(app).storage.transaction() as tx:
        return tx.catalogs.document(Tenant.DEFAULT)


def confirm(console: Console, preview: str) -> Any:
    fields = hidden_fields(preview, UPLOAD + "/confirm")
    return console.client.post(UPLOAD + "/confirm", data=fields)


def test_a_bad_catalog_names_each_json_path_then_the_fix_imports(
    console: Console, app: Flask
) -> None:
    good = json.loads(EXAMPLE.read_text())
    bad = copy.deepcopy(good)
    bad["lessons"][1]["competencies"][0]["id"] = "comm.escalaton"
    bad["lessons"][2]["duration_minutes"] = -4
    refused = upload(console, json.dumps(bad).encode())
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'data-testid="validation-report"' in page
    assert "<code>lessons[1].competencies[0].id</code>" in page and "escalaton" in page
    assert "<code>lessons[2].duration_minutes</code>" in page
    assert stored_catalog(app) is None

    first = upload(console, json.dumps(good).encode())
    assert first.status_code == 200 and "A first catalog" in first.get_data(as_text=True)
    assert stored_catalog(app) is None  # nothing before the confirmation
    done = confirm(console, first.get_data(as_text=True))
    assert done.status_code == 303
    assert stored_catalog(app) == good

    # An update shows what it changes, section by section, before it is imported.
    changed = copy.deepcopy(good)
    changed["lessons"][0]["title"] = "Tone, clarity and pace"
    changed["lessons"].pop(2)
    changed["competencies"].append({"id": "comm.empathy", "name": "Empathy"})
    preview = upload(console, json.dumps(changed).encode()).get_data(as_text=True)
    assert "What this upload changes" in preview
    assert "added: <code>comm.empathy</code>" in preview
    assert "changed: <code>https://lessons.example.org/comm/basics-video (title)</code>" in preview
    assert "removed: <code>https://lessons.example.org/comm/escalation-check</code>" in preview
    assert confirm(console, preview).status_code == 303
    assert stored_catalog(app) == changed
    replayed = confirm(console, preview)  # the same form again: refused
    assert replayed.status_code == 400 and "(stale_form)" in replayed.get_data(as_text=True)
    # A fresh form with the spent upload token: the upload serves once.
    shown = console.get(PAGE).get_data(as_text=True)
    fields = hidden_fields(shown, UPLOAD)
    token = hidden_fields(preview, UPLOAD + "/confirm")["token"]
    again = console.client.post(UPLOAD + "/confirm", data={**fields, "token": token})
    assert again.status_code == 303
    page = console.get(PAGE).get_data(as_text=True)
    assert "already imported or has expired" in page
    with container_of(app).storage.transaction() as tx:
        details = [a.detail for a in tx.audit.recent(None, 20) if a.action == "catalog.import"]
    assert len(details) == 2 and details[0].startswith("updated the catalog")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            b"{" + b" " * (600 * 1024) + b"}",
            "The file is 600 KB; catalogs up to 512 KB are accepted.",
        ),
        (
            '{"format": "skillpath-catalog/1", "name": "caf\u00e9"}'.encode("latin-1"),
            "The file is not UTF-8 text (byte",
        ),
        (b'{"format": "skillpath-catalog/1\x00"}', "The file holds a NUL character"),
        (
            b'{"format": "skillpath-catalog/1", "x": "\x07"}',
            "The file holds the control character U+0007",
        ),
        (
            b'{"format": "skillpath-catalog/1", "competencies": [{"id": "\\ud800"}]}',
            "competencies[0].id holds a lone surrogate",
        ),
        (b'{"format": "skillpath-catalog/1", "n": "\\u0000"}', "n holds a NUL character"),
        (
            b"{not json",
            "The file is not JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        ),
        (b"   ", "The file is empty."),
    ],
)
def test_a_refused_file_imports_nothing(
    console: Console, app: Flask, data: bytes, says: str
) -> None:
    answer = upload(console, data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert says in page and "Nothing was imported." in page
    assert page.count('data-testid="upload-refused"') == 1
    assert stored_catalog(app) is None


def test_an_upload_over_the_request_limit(console: Console, app: Flask) -> None:
    answer = upload(console, b"x" * (1024 * 1024 + 10))
    assert answer.status_code == 413
    assert "larger than 1024 KB" in answer.get_data(as_text=True)
    assert stored_catalog(app) is None


def lrs_post(console: Console, action: str, **form: str) -> Any:
    shown = console.get(PAGE).get_data(as_text=True)
    fields = hidden_fields(shown, "/admin/registrations/default/lrs")
    fields.update(form, action=action)
    return console.client.post("/admin/registrations/default/lrs", data=fields)


def test_connecting_the_learning_locker_peer(
    console: Console,
    app: Flask,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    peer = learning_locker
    wrong = lrs_post(
        console, "test", endpoint=peer.endpoint, username=peer.username, password="not-it"
    )
    page = wrong.get_data(as_text=True)
    assert (
        wrong.status_code == 502 and "the LRS refused the username or password (HTTP 401)" in page
    )
    assert "not-it" not in page and f'value="{peer.endpoint}"' in page

    gone = lrs_post(
        console,
        "test",
        endpoint=f"http://127.0.0.1:{free_port()}/xAPI/",
        username="u",
        password="p",
    )
    assert gone.status_code == 502 and "the LRS could not be reached" in gone.get_data(as_text=True)

    right = lrs_post(
        console, "test", endpoint=peer.endpoint, username=peer.username, password=peer.password
    )
    page = right.get_data(as_text=True)
    assert right.status_code == 200 and "Connected: the LRS answered" in page
    assert peer.password not in page
    with container_of(app).storage.transaction() as tx:
        assert tx.lrs.for_tenant(Tenant.DEFAULT) is None  # testing saves nothing

    saved = lrs_post(
        console, "save", endpoint=peer.endpoint, username=peer.username, password=peer.password
    )
    assert saved.status_code == 303
    page = console.get(PAGE).get_data(as_text=True)
    assert "the password is set (stored encrypted, never shown)" in page
    assert peer.password not in page
    with container_of(app).storage.transaction() as tx:
        stored = tx.lrs.for_tenant(Tenant.DEFAULT)
    assert stored is not None and peer.password not in stored.password_encrypted
    # The saved password serves a later test without typing it again.
    kept = lrs_post(console, "test", endpoint=peer.endpoint, username=peer.username, password="")
    assert kept.status_code == 200 and "Connected" in kept.get_data(as_text=True)
    with container_of(app).storage.transaction() as tx:
        audit = [a.detail for a in tx.audit.recent(None, 20)]
    assert any(d.startswith(f"LRS {peer.endpoint}") for d in audit)
    assert not any(peer.password in d for d in audit)


def test_an_lrs_needs_a_password_and_a_url(console: Console) -> None:
    no_password = lrs_post(
        console, "save", endpoint="https://lrs.example.edu/xAPI/", username="u", password=""
    )
    assert no_password.status_code == 400
    assert "Type the LRS password" in no_password.get_data(as_text=True)
    no_url = lrs_post(console, "save", endpoint="lrs.example.edu", username="u", password="p")
    assert "absolute http(s) URL" in no_url.get_data(as_text=True)
