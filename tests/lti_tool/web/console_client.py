"""Driving the admin console over HTTP as a browser does: every post is made from the page
that shows its form, with that form's CSRF and single-use tokens."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery staple"


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
            self._open = True
        elif (
            tag == "input" and self._open and values.get("type") == "hidden" and values.get("name")
        ):
            self.forms[-1][1][values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def hidden_fields(page: str, action: str, index: int = 0) -> dict[str, str]:
    """The hidden fields of the `index`-th form of `page` that posts to `action`."""
    parser = _Forms()
    parser.feed(page)
    found = [fields for target, fields in parser.forms if target.split("?")[0] == action]
    if len(found) <= index:
        raise AssertionError(f"no form posting to {action} in the page")
    return dict(found[index])


class Console:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def post(
        self,
        page: str,
        action: str,
        data: dict[str, Any] | None = None,
        *,
        index: int = 0,
        follow: bool = False,
        content_type: str | None = None,
    ) -> TestResponse:
        shown = self.client.get(page)
        assert shown.status_code == 200, shown.get_data(as_text=True)[:500]
        fields = hidden_fields(shown.get_data(as_text=True), action, index)
        fields.update(data or {})
        return self.client.post(
            action, data=fields, follow_redirects=follow, content_type=content_type
        )

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> TestResponse:
        return self.post(
            "/admin/login", "/admin/login", {"username": username, "password": password}
        )


def multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory (werkzeug's test client spools big bodies
    to a temporary file it never closes)."""
    boundary = "skillpath-test-boundary-7f3a"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (data, filename) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/json\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
