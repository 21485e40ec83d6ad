"""Names and Role Provisioning: the class roster, every page of it, or an error the
instructor sees. Never a partial roster: a failed page, a loop or too many pages raise.
Rosters are cached briefly in the shared store (per context, or per resource link).

Ours rather than pylti1p3's `NamesRolesProvisioningService`, which stops quietly when a page
fails and lower-cases the `next` URL it follows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from adapters.lms import LmsAdapter, adapter_named
from lti_tool.errors import RosterUnavailable, TokenRequestFailed, UnknownRegistration
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.services.paging import next_link
from lti_tool.lti.vocabulary import MEMBERSHIP_TYPE, NRPS_CLAIM, NRPS_SCOPE, product_family
from lti_tool.storage import LaunchRecord, SharedStore

CACHE_SECONDS = 120
# The class list is read while an instructor's page waits: each call to the LMS (token and
# pages) gets this long (connect, read; a GET is retried once); a slower LMS leaves the page without the list.
PAGE_CALL_TIMEOUT = (2.0, 2.0)
MAX_PAGES = 200


@dataclass(frozen=True)
class Member:
    user_id: str
    roles: tuple[str, ...]
    status: str
    name: str | None
    email: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Member:
        roles = data.get("roles")
        return cls(
            user_id=str(data["user_id"]),
            roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
            status=str(data.get("status") or "Active"),
            name=data.get("name") if isinstance(data.get("name"), str) else None,
            email=data.get("email") if isinstance(data.get("email"), str) else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "roles": list(self.roles),
            "status": self.status,
            "name": self.name,
            "email": self.email,
        }


def memberships_url(claims: Mapping[str, Any]) -> str | None:
    claim = claims.get(NRPS_CLAIM)
    if not isinstance(claim, Mapping):
        return None
    url = claim.get("context_memberships_url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _cache_key(launch: LaunchRecord, url: str, per_link: bool) -> str:
    raw = "\n".join(
        [launch.issuer, launch.client_id, url, (launch.resource_link_id or "") if per_link else ""]
    )
    return "nrps:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def forget_roster(store: SharedStore, launch: LaunchRecord) -> None:
    """Drop the cached roster of the launch's context and resource link (the next read asks
    the platform)."""
    url = memberships_url(launch.claims)
    if url is not None:
        for per_link in (False, True):
            store.delete(_cache_key(launch, url, per_link))


def read_roster(
    clients: ServiceClients,
    store: SharedStore,
    launch: LaunchRecord,
    *,
    per_resource_link: bool = False,
    use_cache: bool = True,
) -> list[Member]:
    """Every member of the launch's context (or of its resource link), all pages."""
    url = memberships_url(launch.claims)
    if url is None:
        raise RosterUnavailable(
            "The LMS did not give this link access to the class list (Names and Role "
            "Provisioning is not enabled for the tool)."
        )
    key = _cache_key(launch, url, per_resource_link)
    if use_cache:
        cached = store.get(key)
        if isinstance(cached, list):
            return [Member.from_json(m) for m in cached]
    adapter = adapter_named(product_family(launch.claims))
    params = (
        {"rlid": launch.resource_link_id} if per_resource_link and launch.resource_link_id else None
    )
    members = _all_pages(clients, launch, url, params, adapter)
    store.put(key, [m.to_json() for m in members], CACHE_SECONDS)
    return members


def _all_pages(
    clients: ServiceClients,
    launch: LaunchRecord,
    first_url: str,
    params: dict[str, str] | None,
    adapter: LmsAdapter,
) -> list[Member]:
    try:
        connector = clients.connector(launch.tenant, timeout=PAGE_CALL_TIMEOUT)
    except UnknownRegistration as exc:
        raise RosterUnavailable(str(exc)) from exc
    members: dict[str, Member] = {}
    seen: set[str] = set()
    url: str | None = first_url
    pages = 0
    while url is not None:
        if url in seen:
            raise RosterUnavailable(details={"cause": f"the LMS paged back to {url}"})
        if pages >= MAX_PAGES:
            raise RosterUnavailable(
                f"The class list has more than {MAX_PAGES} pages; Skillpath stopped rather "
                "than show part of it."
            )
        seen.add(url)
        pages += 1
        try:
            response = connector.send(
                "GET", url, [NRPS_SCOPE], accept=MEMBERSHIP_TYPE, params=params
            )
        except (requests.RequestException, TokenRequestFailed) as exc:
            raise RosterUnavailable(details={"cause": str(exc)[:300], "page": pages}) from exc
        if not response.ok:
            raise RosterUnavailable(
                details={"cause": f"HTTP {response.status_code}", "page": pages}
            )
        try:
            body = response.json()
            page = [Member.from_json(m) for m in body["members"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise RosterUnavailable(details={"cause": "unreadable page", "page": pages}) from exc
        for member in page:
            members[member.user_id] = member
        params = None  # the next URL carries its own query
        url = next_link(response.headers.get("Link"))
        body_next = body.get("next") if isinstance(body, dict) else None
        if url is None and isinstance(body_next, str) and body_next:
            if not adapter.roster_next_in_body:
                # More pages announced the non-standard way: stop rather than show a part.
                raise RosterUnavailable(
                    details={"cause": "next page in the body without a Link header"}
                )
            url = body_next
    return list(members.values())
