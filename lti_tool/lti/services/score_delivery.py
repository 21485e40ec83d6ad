"""The outbox deliverer of `ags_score` items: resolve the line item, post the score, read
the platform's answer as Delivered / RetryLater / Failed (with the LMS adapter's reading
first). The container registers it with the outbox under `KIND`."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import requests

from adapters.lms import LmsAdapter, Verdict, adapter_named
from lti_tool.errors import ServiceCallFailed, TokenRequestFailed, UnknownRegistration
from lti_tool.lti.services.ags import AgsClient, LineItemSpec
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.vocabulary import SCOPE_RESULT_READONLY
from lti_tool.outbox.backoff import parse_retry_after, result_for_status
from lti_tool.outbox.delivery import (
    Delivered,
    DeliveryResult,
    Exchange,
    Failed,
    ItemToDeliver,
    RetryLater,
    truncate,
)
from lti_tool.storage import Tenant

KIND = "ags_score"


def _network_failure(what: str, exc: requests.RequestException, summary: str) -> RetryLater:
    # Failing to connect means nothing was sent; any later failure may come after the
    # platform got the request.
    not_sent = isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
    )
    return RetryLater(
        f"{what}: {type(exc).__name__}",
        uncertain=not not_sent,
        exchange=Exchange(request_summary=summary, response_body=truncate(str(exc), 500)),
    )


def _read(
    adapter: LmsAdapter, status: int, body: str, headers: Mapping[str, str], summary: str
) -> DeliveryResult:
    exchange = Exchange(
        request_summary=summary, response_status=status, response_body=truncate(body)
    )
    reading = adapter.read_response(status, body, headers)
    if reading is not None:
        if reading.verdict is Verdict.DELIVERED:
            return Delivered(exchange)
        if reading.verdict is Verdict.FAIL:
            return Failed(reading.message, exchange)
        after = reading.retry_after
        if after is None:
            after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
        return RetryLater(reading.message, after=after, exchange=exchange)
    return result_for_status(status, body, headers, exchange)


class AgsScoreDeliverer:
    """Sends `ags_score` outbox items."""

    def __init__(self, clients: ServiceClients) -> None:
        self._clients = clients
        self._gates: dict[tuple[str, str, str], threading.Semaphore] = {}
        self._gates_lock = threading.Lock()

    def _gate(self, adapter: LmsAdapter, issuer: str, client_id: str) -> threading.Semaphore:
        limit = adapter.max_parallel_posts or 1_000_000
        with self._gates_lock:
            return self._gates.setdefault(
                (adapter.name, issuer, client_id), threading.Semaphore(limit)
            )

    def deliver(self, item: ItemToDeliver) -> DeliveryResult:
        payload = item.payload
        adapter = adapter_named(str(payload.get("lms", "")))
        issuer, client_id = str(payload["issuer"]), str(payload["client_id"])
        score: Mapping[str, Any] = payload["score"]
        summary = "POST score " + json.dumps(score, sort_keys=True)
        try:
            client = self._clients.ags(Tenant(issuer, client_id), payload["scopes"])
        except UnknownRegistration as exc:
            return Failed(str(exc), Exchange(request_summary=summary))
        with self._gate(adapter, issuer, client_id):
            try:
                lineitem = self._line_item(client, payload)
            except ServiceCallFailed as exc:
                return _read(
                    adapter,
                    exc.peer_status or 502,
                    exc.peer_body,
                    exc.headers,
                    "resolve line item: " + str(exc)[:200],
                )
            except TokenRequestFailed as exc:
                return self._token_failure(exc, summary)
            except requests.RequestException as exc:
                return _network_failure("line item", exc, summary)
            summary = f"POST {lineitem}/scores " + json.dumps(score, sort_keys=True)
            try:
                if item.uncertain and self._already_there(client, lineitem, score, payload):
                    return Delivered(
                        Exchange(
                            request_summary=summary,
                            response_body="already recorded by the platform (read back)",
                        )
                    )
                response = client.post_score(lineitem, score)
            except TokenRequestFailed as exc:
                return self._token_failure(exc, summary)
            except requests.RequestException as exc:
                return _network_failure("score", exc, summary)
            if response.status_code == 404 and not payload.get("lineitem"):
                # Our line item was deleted on the platform: resolve (recreate) it next time.
                spec = LineItemSpec.from_json(payload["line_item"])
                scope = f"{payload['issuer']}|{payload['client_id']}"
                client.forget_line_item(str(payload["lineitems"]), spec, scope)
                return RetryLater(
                    "the line item is gone from the platform; it will be created again",
                    exchange=Exchange(summary, 404, truncate(response.text)),
                )
            return _read(adapter, response.status_code, response.text, response.headers, summary)

    @staticmethod
    def _line_item(client: AgsClient, payload: Mapping[str, Any]) -> str:
        if payload.get("lineitem"):
            return str(payload["lineitem"])
        spec = LineItemSpec.from_json(payload["line_item"])
        scope = f"{payload['issuer']}|{payload['client_id']}"
        return client.resolve_line_item(str(payload["lineitems"]), spec, scope)

    @staticmethod
    def _already_there(
        client: AgsClient, lineitem: str, score: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> bool:
        """After an attempt whose answer we never saw: does the platform hold this score?"""
        if SCOPE_RESULT_READONLY not in payload.get("scopes", []):
            return False
        try:
            results = client.results(lineitem, str(score["userId"]))
        except (ServiceCallFailed, TokenRequestFailed, requests.RequestException):
            return False
        for result in results:
            given, maximum = result.get("resultScore"), result.get("resultMaximum")
            if given is None or score.get("scoreGiven") is None:
                continue
            same_score = abs(float(given) - float(score["scoreGiven"])) < 1e-9
            same_max = maximum is None or abs(float(maximum) - float(score["scoreMaximum"])) < 1e-9
            if same_score and same_max:
                return True
        return False

    @staticmethod
    def _token_failure(exc: TokenRequestFailed, summary: str) -> DeliveryResult:
        exchange = Exchange(
            request_summary=summary,
            response_status=exc.peer_status,
            response_body=truncate(exc.peer_body),
        )
        if exc.peer_status is None:
            return RetryLater(str(exc), exchange=exchange)
        return result_for_status(exc.peer_status, exc.peer_body, exc.headers, exchange)
