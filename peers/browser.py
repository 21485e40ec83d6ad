"""A browser for LTI 1.3 launches: a `requests.Session` (its cookie jar) that follows the
launch the way a browser inside an LMS does, one step at a time when a test wants to tamper.

    platform /launch --302--> tool login --302--> platform /authorize --form_post--> tool launch

It only follows URLs, so the tool's login and launch may be served by different instances.
It must not import Skillpath.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

__all__ = ["AuthRequest", "LaunchBrowser", "LaunchError", "LaunchForm", "parse_form"]


class LaunchError(AssertionError):
    """A step of the launch did not answer the way a working launch does."""

    def __init__(self, step: str, response: requests.Response, expected: str) -> None:
        super().__init__(
            f"{step}: expected {expected}, got {response.status_code} from {response.url}: "
            f"{response.text[:500]}"
        )
        self.response = response


@dataclass(frozen=True)
class AuthRequest:
    """The tool's OIDC authentication request, as its login redirected the browser."""

    url: str
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params.get("state", "")

    @property
    def nonce(self) -> str:
        return self.params.get("nonce", "")

    @property
    def redirect_uri(self) -> str:
        return self.params.get("redirect_uri", "")


@dataclass
class LaunchForm:
    """The platform's auto-submit form: where it posts and the hidden fields it carries."""

    action: str
    method: str = "post"
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def id_token(self) -> str:
        return self.fields.get("id_token", "")

    @property
    def state(self) -> str:
        return self.fields.get("state", "")


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[LaunchForm] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                LaunchForm(
                    action=values.get("action", ""), method=values.get("method", "get").lower()
                )
            )
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1].fields[values["name"]] = values.get("value", "")


def parse_form(page: str, base_url: str = "") -> LaunchForm:
    """The first form of an HTML page, its action made absolute against `base_url`."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    if not parser.forms:
        raise ValueError("no form in the page")
    form = parser.forms[0]
    form.action = urljoin(base_url, form.action)
    return form


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


class LaunchBrowser:
    """Drives LTI 1.3 launches with one cookie jar; close it (or use `with`) when done."""

    def __init__(self, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LaunchBrowser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # the whole launch
    def launch(self, peer_launch_url: str, **post_kwargs: Any) -> requests.Response:
        """A complete launch from the platform's `/launch` URL; the tool's final response."""
        login_url = self.start(peer_launch_url)
        auth = self.login(login_url)
        form = self.authorize(auth)
        return self.post_form(form, **post_kwargs)

    # the steps
    def start(self, peer_launch_url: str) -> str:
        """The user clicks the link in the platform: returns the tool's login URL it redirects to."""
        response = self.session.get(peer_launch_url, allow_redirects=False, timeout=self.timeout)
        if response.status_code not in (302, 303) or "Location" not in response.headers:
            raise LaunchError("platform launch", response, "a redirect to the tool's login")
        return urljoin(peer_launch_url, response.headers["Location"])

    def login(self, login_url: str, method: str = "GET") -> AuthRequest:
        """The tool's OIDC login (third-party initiated): returns its authentication request."""
        if method.upper() == "POST":
            base, params = login_url.split("?", 1)[0], _query(login_url)
            response = self.session.post(
                base, data=params, allow_redirects=False, timeout=self.timeout
            )
        else:
            response = self.session.get(login_url, allow_redirects=False, timeout=self.timeout)
        if response.status_code not in (302, 303) or "Location" not in response.headers:
            raise LaunchError("tool login", response, "a redirect to the platform's /authorize")
        url = urljoin(login_url, response.headers["Location"])
        return AuthRequest(url=url, params=_query(url))

    def authorize(self, auth: AuthRequest | str) -> LaunchForm:
        """The platform's authorization endpoint: returns the auto-submit form it renders."""
        url = auth.url if isinstance(auth, AuthRequest) else auth
        response = self.session.get(url, allow_redirects=False, timeout=self.timeout)
        if response.status_code != 200:
            raise LaunchError("platform authorize", response, "200 with the launch form")
        return parse_form(response.text, url)

    def post_form(
        self,
        form: LaunchForm,
        *,
        fields: dict[str, str] | None = None,
        action: str | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Submit the form as the browser's script would; `fields` replace or add values
        (a `None`-free dict), `action` posts elsewhere."""
        data = {**form.fields, **(fields or {})}
        return self.session.post(
            action or form.action, data=data, allow_redirects=allow_redirects, timeout=self.timeout
        )

    def post_id_token(
        self, launch_url: str, id_token: str, state: str, **extra: str
    ) -> requests.Response:
        """Post a crafted id_token and state straight to the tool's launch URL."""
        return self.session.post(
            launch_url, data={"id_token": id_token, "state": state, **extra}, timeout=self.timeout
        )
