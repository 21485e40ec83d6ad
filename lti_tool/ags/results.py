"""Reading results back from the LMS for the instructor view (synchronously: an instructor
is waiting, so failures raise a `GradeSyncUnavailable` with a message for them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from adapters.lms import adapter_for_launch
from lti_tool.ags.claims import SCOPE_RESULT_READONLY
from lti_tool.ags.client import AgsCallFailed, LineItemSpec
from lti_tool.ags.connect import ServiceClients
from lti_tool.ags.progress import PROGRESS_TAG, grade_sync_for
from lti_tool.ags.tokens import TokenRequestFailed
from lti_tool.errors import SkillpathError
from lti_tool.models import Launch

if TYPE_CHECKING:
    from lti_tool.services import Services


class GradeSyncUnavailable(SkillpathError):
    status = 502
    code = "grade_sync_unavailable"
    default_message = "The LMS gradebook could not be read just now; try again in a minute."


@dataclass(frozen=True)
class LmsResult:
    """One learner's result as the LMS holds it."""

    user_id: str
    score: float | None
    maximum: float | None
    comment: str | None


def read_results(
    services: Services,
    launch: Launch,
    *,
    competency_id: str | None = None,
    pathway_id: str | None = None,
    clients: ServiceClients | None = None,
) -> list[LmsResult]:
    """The results on the link's progress line item (or a competency's)."""
    sync = grade_sync_for(launch.claims)
    endpoint = sync.endpoint
    if endpoint is None or not endpoint.granted(SCOPE_RESULT_READONLY):
        raise GradeSyncUnavailable("The LMS did not allow the tool to read results.")
    own_clients = clients is None
    clients = clients or ServiceClients(services, pool_size=2)
    try:
        client = clients.ags(launch.issuer, launch.client_id, endpoint.token_scopes())
        if competency_id is None and endpoint.lineitem:
            lineitem = endpoint.lineitem
        elif endpoint.lineitems and endpoint.can_read_line_items:
            adapter = adapter_for_launch(launch.claims)
            spec = LineItemSpec(
                label="",
                score_maximum=1.0,
                tag=competency_id or PROGRESS_TAG,
                resource_id=pathway_id,
                resource_link_id=launch.resource_link_id,
                extras=dict(adapter.line_item_extras),
            )
            found = [
                i
                for i in client.line_items(endpoint.lineitems, {})
                if spec.matches(i) and isinstance(i.get("id"), str)
            ]
            if not found:
                return []
            lineitem = str(found[0]["id"])
        else:
            raise GradeSyncUnavailable("This link has no line item the tool can read.")
        rows = client.results(lineitem)
    except (AgsCallFailed, TokenRequestFailed, requests.RequestException) as exc:
        raise GradeSyncUnavailable(details={"cause": str(exc)[:300]}) from exc
    finally:
        if own_clients:
            clients.close()
    return [
        LmsResult(
            user_id=str(r.get("userId", "")),
            score=_number(r.get("resultScore")),
            maximum=_number(r.get("resultMaximum")),
            comment=r.get("comment") if isinstance(r.get("comment"), str) else None,
        )
        for r in rows
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
