"""Skillpath's own small xAPI LRS client, on one `requests.Session`.

What it guarantees, so the callers need not: the `X-Experience-API-Version` header on every
request (1.0.3, or 2.0.0 once the LRS's `/about` lists it), basic auth, a timeout on every call,
connection reuse, retries with exponential backoff only where a retry cannot duplicate anything
(GET, and PUT of a statement whose id the client made: 204, or 409 on an identical retry, is
success), `more` links resolved against the endpoint whether relative or absolute, and the
`X-Experience-API-Consistent-Through` header surfaced on every statement page. Failures raise the
`xapi.errors` tree. Statements come back as raw JSON values: reading them leniently is
`xapi.reader`'s job, so one malformed statement never fails a page here.

Must not import flask, sqlalchemy or anything of `lti_tool`; tests inject the session.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import requests

from xapi.errors import (
    LrsAuthError,
    LrsConnectionError,
    LrsHttpError,
    LrsProtocolError,
    LrsRejectedStatement,
    LrsRequest,
    LrsServerError,
    LrsTimeout,
)
from xapi.http import RETRYABLE_STATUSES, new_session
from xapi.timestamps import format_timestamp, parse_timestamp

# How many of the latest `more` links a paging loop remembers to detect an LRS going round.
RECENT_MORE_LINKS = 64

__all__ = ["LrsClient", "RetryPolicy", "StatementPage", "StatementQuery"]

log = logging.getLogger(__name__)

XAPI_1_0_3 = "1.0.3"
XAPI_2_0_0 = "2.0.0"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How safe requests are retried: `attempts` in all, sleeping backoff * 2**n in between."""

    attempts: int = 3
    backoff_seconds: float = 0.2
    max_sleep_seconds: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based); honours a small Retry-After."""
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_sleep_seconds)
        return min(self.backoff_seconds * 2.0**attempt, self.max_sleep_seconds)


@dataclass(frozen=True, slots=True)
class StatementQuery:
    """The filters of `GET statements` that Skillpath uses. `agent` is an Agent object."""

    since: datetime | None = None
    until: datetime | None = None
    agent: Mapping[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    related_activities: bool = False
    limit: int | None = None
    ascending: bool | None = True  # None: leave the LRS's default order

    def to_params(self) -> dict[str, str]:
        """The query string parameters, encoded as the xAPI spec says (agent as JSON)."""
        params: dict[str, str] = {}
        if self.since is not None:
            params["since"] = format_timestamp(self.since)
        if self.until is not None:
            params["until"] = format_timestamp(self.until)
        if self.agent is not None:
            params["agent"] = json.dumps(dict(self.agent), separators=(",", ":"))
        if self.verb is not None:
            params["verb"] = self.verb
        if self.activity is not None:
            params["activity"] = self.activity
            if self.related_activities:
                params["related_activities"] = "true"
        if self.limit is not None:
            params["limit"] = str(self.limit)
        if self.ascending is not None:
            params["ascending"] = "true" if self.ascending else "false"
        return params


@dataclass(frozen=True, slots=True)
class StatementPage:
    """One page of a statements query, statements left unparsed (raw JSON values)."""

    statements: Sequence[Any]
    more: str | None
    consistent_through: datetime | None
    url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


class LrsClient:
    """An xAPI client for one LRS endpoint (for example `http://lrs.example/xAPI/`).

    `session` may be injected (tests, a shared pool); `version` pins the xAPI version instead of
    asking `/about`; `clock` and `sleep` are injectable so tests of retries run instantly.
    """

    def __init__(
        self,
        endpoint: str,
        username: str | None = None,
        password: str | None = None,
        *,
        session: requests.Session | None = None,
        auth: requests.auth.AuthBase | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        version: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._session = session or new_session()
        self._owns_session = session is None
        if auth is None and username is not None:
            auth = requests.auth.HTTPBasicAuth(username, password or "")
        self._auth = auth
        self._version = version
        self._about: Mapping[str, Any] | None = None
        self._sleep = sleep
        self._clock = clock

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock that `deadline` arguments are measured with."""
        return self._clock

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session when the client made it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- about and version ---------------------------------------------------------------------

    def about(self) -> Mapping[str, Any]:
        """The LRS's `/about` document, fetched once; `{}` when the LRS has none (404)."""
        if self._about is None:
            try:
                response = self._request("GET", self.url("about"), safe=True, version=XAPI_1_0_3)
                self._about = self._json_object(response)
            except LrsHttpError as error:
                if error.status != 404:
                    raise
                log.info("LRS %s has no /about; assuming xAPI %s", self.endpoint, XAPI_1_0_3)
                self._about = {}
        return self._about

    @property
    def version(self) -> str:
        """The xAPI version sent in every request: 2.0.0 only when `/about` lists it."""
        if self._version is None:
            listed = self.about().get("version", [])
            self._version = (
                XAPI_2_0_0 if isinstance(listed, list) and XAPI_2_0_0 in listed else (XAPI_1_0_3)
            )
        return self._version

    def url(self, resource: str) -> str:
        """The absolute URL of an xAPI resource (`statements`, `about`) or of a `more` link.

        `more` may be absolute, relative to the server root (`/xAPI/statements?...`), or
        relative to the endpoint; all three resolve here.
        """
        return urljoin(self.endpoint, resource)

    def get_document(self, resource: str) -> Mapping[str, Any]:
        """GET any JSON object the LRS serves (relative to the endpoint, or root-relative)."""
        return self._json_object(self._request("GET", self.url(resource), safe=True))

    # -- statements: writing -------------------------------------------------------------------

    def put_statement(self, statement: Mapping[str, Any], statement_id: str | None = None) -> str:
        """Store one statement under a client-made id, retrying safely; return the id.

        A missing id is made here (uuid4) and a missing timestamp set to now, so that a retry
        sends exactly the same statement. 204 is success, and so is 409: the LRS already holds
        a statement with this id, which for an outbox retry means our earlier attempt landed.
        """
        body = prepare_statement(statement, statement_id)
        sid = str(body["id"])
        response = self._request(
            "PUT",
            self.url("statements"),
            params={"statementId": sid},
            json_body=body,
            safe=True,
            accept=(204, 409),
        )
        if response.status_code == 409:
            self._check_conflict(body, LrsRequest("PUT", response.url))
            log.info("LRS already holds statement %s (409); treated as stored", sid)
        return sid

    def _check_conflict(self, sent: Mapping[str, Any], request: LrsRequest) -> None:
        """After a 409, make sure the LRS holds *this* statement (an earlier attempt of ours)
        and not another one under the same id; raise `LrsRejectedStatement` if it does not."""
        sid = str(sent["id"])
        try:
            held = self.get_statement(sid)
        except LrsHttpError as error:
            if error.status != 404:
                raise
            held = self.get_statement(sid, voided=True)
        if _essence(held) != _essence(sent):
            raise LrsRejectedStatement(
                f"The LRS holds a different statement under id {sid}",
                request=request,
                status=409,
            )

    def post_statements(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store a batch in one POST; ids are made here. Not retried: one duplicate in a batch
        can make the LRS refuse it all, so the caller retries statement by statement with
        `put_statement` instead."""
        bodies = [prepare_statement(statement) for statement in statements]
        response = self._request(
            "POST", self.url("statements"), json_body=bodies, safe=False, accept=(200,)
        )
        ids = response.json() if response.content else []
        return [str(i) for i in ids] if isinstance(ids, list) else [str(b["id"]) for b in bodies]

    # -- statements: reading -------------------------------------------------------------------

    def get_statement(self, statement_id: str, *, voided: bool = False) -> Mapping[str, Any]:
        """One statement by id (or a voided one by `voidedStatementId`)."""
        key = "voidedStatementId" if voided else "statementId"
        response = self._request(
            "GET", self.url("statements"), params={key: statement_id}, safe=True
        )
        document = self._json_object(response)
        listed = document.get("statements")
        if "id" not in document and isinstance(listed, list):
            # Some LRSs (Ralph 5.1's filesystem backend) ignore statementId and answer with a
            # statement list: pick ours out of it.
            for statement in listed:
                if isinstance(statement, dict) and statement.get("id") == statement_id:
                    return statement
            raise LrsProtocolError(
                f"LRS did not return statement {statement_id}", request=_describe(response)
            )
        return document

    def get_statements(
        self, query: StatementQuery, *, deadline: float | None = None
    ) -> StatementPage:
        """The first page of a statements query."""
        return self._page(self.url("statements"), query.to_params(), deadline)

    def get_more(self, more: str, *, deadline: float | None = None) -> StatementPage:
        """The page behind a `more` link."""
        return self._page(self.url(more), None, deadline)

    def iter_pages(
        self, query: StatementQuery, *, deadline: float | None = None
    ) -> Iterator[StatementPage]:
        """Every page of a query, following `more` to the end; `deadline` is a `clock()` value
        after which no further request is started (raises `LrsTimeout`)."""
        page = self.get_statements(query, deadline=deadline)
        # The latest links only: a sync of millions of statements keeps constant memory, and
        # an LRS that sends a link again sends one of its recent ones.
        recent_links: deque[str] = deque(maxlen=RECENT_MORE_LINKS)
        while True:
            yield page
            if not page.more:
                return
            if page.more in recent_links:
                raise LrsProtocolError(f"LRS repeated the more link {page.more!r}")
            recent_links.append(page.more)
            page = self.get_more(page.more, deadline=deadline)

    def _page(
        self, url: str, params: Mapping[str, str] | None, deadline: float | None
    ) -> StatementPage:
        response = self._request("GET", url, params=params, safe=True, deadline=deadline)
        document = self._json_object(response)
        statements = document.get("statements")
        if not isinstance(statements, list):
            raise LrsProtocolError(
                "statements result has no statements list", request=_describe(response)
            )
        more = document.get("more")
        consistent = response.headers.get("X-Experience-API-Consistent-Through")
        through: datetime | None = None
        if consistent:
            try:
                through = parse_timestamp(consistent)
            except ValueError:
                log.warning("LRS sent an unreadable Consistent-Through %r", consistent)
        return StatementPage(
            statements=statements,
            more=more if isinstance(more, str) and more else None,
            consistent_through=through,
            url=response.url,
        )

    # -- the one place that talks HTTP ---------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        safe: bool,
        accept: Sequence[int] = (200,),
        version: str | None = None,
        deadline: float | None = None,
    ) -> requests.Response:
        headers = {"X-Experience-API-Version": version or self.version}
        data: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        attempts = self.retry.attempts if safe else 1
        described = LrsRequest(method, url)
        for attempt in range(attempts):
            timeout = self.timeout
            if deadline is not None:
                timeout = min(timeout, deadline - self._clock())
                if timeout <= 0:
                    raise LrsTimeout(
                        "The time allowed for this LRS query ran out", request=described
                    )
            last = attempt == attempts - 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=timeout,
                )
            except requests.Timeout as error:
                if last:
                    raise LrsTimeout(request=described) from error
                self._wait(attempt, None, described, "timeout")
                continue
            except requests.ConnectionError as error:
                if last:
                    raise LrsConnectionError(request=described) from error
                self._wait(attempt, None, described, "connection error")
                continue
            if response.status_code in accept:
                return response
            if response.status_code in RETRYABLE_STATUSES and not last:
                self._wait(
                    attempt,
                    response.headers.get("Retry-After"),
                    described,
                    f"HTTP {response.status_code}",
                )
                continue
            raise _http_error(response, described)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, retry_after: str | None, request: LrsRequest, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        log.info("retrying %s after %s in %.2fs", request, why, delay)
        self._sleep(delay)

    @staticmethod
    def _json_object(response: requests.Response) -> dict[str, Any]:
        try:
            document = response.json()
        except ValueError as error:
            raise LrsProtocolError(
                "LRS answered with invalid JSON", request=_describe(response)
            ) from error
        if not isinstance(document, dict):
            raise LrsProtocolError(
                "LRS answered JSON that is not an object", request=_describe(response)
            )
        return document


def prepare_statement(
    statement: Mapping[str, Any], statement_id: str | None = None
) -> dict[str, Any]:
    """A copy of `statement` with a client-made id and timestamp, so retries are identical.

    An explicit `statement_id` wins over the statement's own id (the outbox keeps the id).
    """
    body = dict(statement)
    if statement_id is not None:
        body["id"] = statement_id
    body.setdefault("id", str(uuid.uuid4()))
    body.setdefault("timestamp", format_timestamp(datetime.now(UTC)))
    return body


def _essence(statement: Mapping[str, Any]) -> tuple[Any, ...]:
    """What must match for two statements to be the same (LRSs add objectType, display...)."""
    actor = statement.get("actor") or {}
    target = statement.get("object") or {}
    verb = statement.get("verb") or {}
    identifier = next(
        (actor.get(k) for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor), None
    )
    return (
        json.dumps(identifier, sort_keys=True),
        verb.get("id"),
        target.get("id"),
        json.dumps((statement.get("result") or {}).get("score"), sort_keys=True),
    )


def _describe(response: requests.Response) -> LrsRequest:
    return LrsRequest(response.request.method or "GET", response.url)


def _http_error(response: requests.Response, request: LrsRequest) -> LrsHttpError:
    status = response.status_code
    body = response.text
    if status in (401, 403):
        return LrsAuthError(request=request, status=status, body=body)
    if status in (400, 409, 413):
        return LrsRejectedStatement(request=request, status=status, body=body)
    if status >= 500 or status == 429:
        return LrsServerError(request=request, status=status, body=body)
    return LrsHttpError(request=request, status=status, body=body)
