"""The one factory of HTTP sessions: Skillpath's sessions to platforms and to LRSs are all made
here, with a timeout on every call, a pool sized for the caller, and retries only where a
retry cannot duplicate anything.

Two kinds of retry exist and each lives in one place: short in-call retries of safe requests
(urllib3's `Retry`, set up by `safe_retries`; the LRS client retries its safe calls itself,
within the caller's deadline), and the outbox's stored backoff for deliveries. Which HTTP
statuses are worth another try is `RETRYABLE_STATUSES`, read by both.

`requests` looks at the environment on every request when `trust_env` is on (proxy variables,
`.netrc`, CA bundle variables): measured here, over a millisecond of CPU per call. The caller
reads the environment once (`config.Settings`) and passes what it says: with no proxy
configured, `trust_env` goes off and the CA bundle is set on the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

__all__ = [
    "RETRYABLE_STATUSES",
    "CallObserver",
    "ObservedAdapter",
    "TimeoutSession",
    "new_session",
    "safe_retries",
]

# Told of every call a session makes: (method, status or None, seconds, error kind or None).
# The app counts them (Prometheus); this package knows nothing of how.
CallObserver = Callable[[str, int | None, float, str | None], None]

# Statuses after which the same request can succeed: the receiver or a proxy is overloaded or
# briefly away. (The outbox adds a few that only make sense for queued deliveries.)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


class TimeoutSession(requests.Session):
    """A requests session whose calls time out unless told otherwise."""

    def __init__(self, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class ObservedAdapter(HTTPAdapter):
    """An adapter that tells `observer` how long each call took and how it ended (retries
    included: the call as its caller sees it)."""

    def __init__(self, observer: CallObserver, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._observer = observer

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        method = str(request.method or "GET")
        try:
            response = super().send(request, *args, **kwargs)
        except requests.Timeout:
            self._observer(method, None, time.perf_counter() - started, "timeout")
            raise
        except requests.ConnectionError:
            self._observer(method, None, time.perf_counter() - started, "connect")
            raise
        except requests.RequestException:
            self._observer(method, None, time.perf_counter() - started, "error")
            raise
        self._observer(method, response.status_code, time.perf_counter() - started, None)
        return response


def safe_retries(total: int = 2, backoff_seconds: float = 0.2) -> Retry:
    """Retry GET, HEAD and OPTIONS on connection errors and on `RETRYABLE_STATUSES`, a few
    tenths of a second apart; never a POST, whose retry could send a score twice. A
    Retry-After is not waited for here (it may say minutes, and a person may be waiting): the
    caller sees the answer, and the outbox honours it."""
    return Retry(
        total=total,
        connect=total,
        read=1,
        status=total,
        backoff_factor=backoff_seconds,
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
        status_forcelist=RETRYABLE_STATUSES,
        respect_retry_after_header=False,
        raise_on_status=False,
    )


def new_session(
    *,
    user_agent: str = "",
    pool_size: int = 10,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    retries: Retry | None = None,
    trust_env: bool = True,
    ca_bundle: str = "",
    observer: CallObserver | None = None,
) -> TimeoutSession:
    """A session with a default timeout, a connection pool of `pool_size`, `retries` (None:
    no automatic retry), and the environment as the caller read it: `trust_env` False when
    no proxy is configured (the environment is then not re-read per request), `ca_bundle`
    the certificate bundle to verify with ("" for the default); `observer` is told of every
    call."""
    session = TimeoutSession(timeout)
    adapter = (
        ObservedAdapter(
            observer, pool_connections=pool_size, pool_maxsize=pool_size, max_retries=retries or 0
        )
        if observer is not None
        else HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size, max_retries=retries or 0
        )
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if user_agent:
        session.headers["User-Agent"] = user_agent
    session.trust_env = trust_env
    if ca_bundle:
        session.verify = ca_bundle
    return session
