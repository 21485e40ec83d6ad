"""Deep Linking 2.0, the tool's side: read the platform's deep linking settings from a
validated launch, and sign the response that carries the chosen content items back.

The response is built with pylti1p3's `DeepLink` helper and signed with the tool's current
key (the one the JWKS publishes first). Each item is an `ltiResourceLink` whose `custom`
parameters name the pathway, with a line item when the platform takes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration

from lti_tool.errors import LaunchRejected
from lti_tool.lti.tool_keys import SigningKey
from lti_tool.lti.vocabulary import (
    DEEP_LINKING_DATA_CLAIM,
    DEEP_LINKING_SETTINGS_CLAIM,
    LTI_RESOURCE_LINK_ITEM,
)


@dataclass(frozen=True)
class DeepLinkingSettings:
    """What the platform said it takes back (Deep Linking 2.0, deep_linking_settings)."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    # None: the platform did not say whether it creates line items (the spec: no assumption).
    accept_lineitem: bool | None
    document_targets: tuple[str, ...]
    data: Any = None
    title: str | None = None

    @property
    def accepts_links(self) -> bool:
        return LTI_RESOURCE_LINK_ITEM in self.accept_types

    @property
    def takes_line_items(self) -> bool:
        return self.accept_lineitem is not False


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def settings_of(claims: Mapping[str, Any]) -> DeepLinkingSettings:
    """The deep linking settings of a validated launch; `LaunchRejected` when the platform
    sent none or no return URL."""
    settings = claims.get(DEEP_LINKING_SETTINGS_CLAIM)
    if not isinstance(settings, Mapping):
        raise LaunchRejected(
            "The deep linking request carries no deep_linking_settings.", code="invalid_claim"
        )
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or not return_url.startswith(("https://", "http://")):
        raise LaunchRejected(
            "The deep linking request names no deep_link_return_url.", code="invalid_claim"
        )
    types = settings.get("accept_types")
    targets = settings.get("accept_presentation_document_targets")
    title = settings.get("title")
    return DeepLinkingSettings(
        return_url=return_url,
        accept_types=tuple(t for t in types if isinstance(t, str))
        if isinstance(types, list)
        else (),
        accept_multiple=_flag(settings.get("accept_multiple")) is True,
        accept_lineitem=_flag(settings.get("accept_lineitem")),
        document_targets=tuple(t for t in targets if isinstance(t, str))
        if isinstance(targets, list)
        else (),
        data=settings.get("data"),
        title=title if isinstance(title, str) and title.strip() else None,
    )


@dataclass(frozen=True)
class LineItemSpec:
    label: str
    resource_id: str
    tag: str
    score_maximum: float = 100.0


@dataclass(frozen=True)
class ContentItem:
    """One `ltiResourceLink` to give the platform."""

    title: str
    text: str
    url: str
    custom: Mapping[str, str] = field(default_factory=dict)
    line_item: LineItemSpec | None = None


class _Link(DeepLinkResource):  # type: ignore[misc]
    """pylti1p3's resource link, with the `text` the spec allows and a presentation target."""

    def __init__(self, text: str, document_target: str | None) -> None:
        self._text = text
        self._document_target = document_target

    def to_dict(self) -> dict[str, object]:
        item: dict[str, object] = super().to_dict()
        if self._text:
            item["text"] = self._text
        if self._document_target:
            item["window" if self._document_target == "window" else "iframe"] = {}
        return item


class _Response(DeepLink):  # type: ignore[misc]
    """pylti1p3's response, leaving out `data` when the platform sent none (it would send
    `null`) and echoing it exactly otherwise."""

    def get_message_jwt(self, resources: Sequence[DeepLinkResource]) -> dict[str, object]:
        message: dict[str, object] = super().get_message_jwt(resources)
        if message.get(DEEP_LINKING_DATA_CLAIM) is None:
            message.pop(DEEP_LINKING_DATA_CLAIM, None)
        return message


class _Signer(Registration):  # type: ignore[misc]
    def __init__(self, issuer: str, client_id: str, key: SigningKey) -> None:
        super().__init__()
        self.set_issuer(issuer).set_client_id(client_id)
        self._key = key

    def get_tool_private_key(self) -> str:
        return self._key.private_key_pem

    def get_kid(self) -> str:
        return self._key.kid


def signed_response(
    key: SigningKey,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: Sequence[ContentItem],
) -> str:
    """The LtiDeepLinkingResponse JWT (iss = our client id, aud = the platform), signed with
    the current tool key."""
    target = next((t for t in ("iframe", "window") if t in settings.document_targets), None)
    resources = []
    for item in items:
        link = _Link(item.text, target)
        link.set_type(LTI_RESOURCE_LINK_ITEM).set_title(item.title).set_url(item.url)
        link.set_custom_params(dict(item.custom))
        if item.line_item is not None and settings.takes_line_items:
            line_item = LineItem()
            line_item.set_score_maximum(item.line_item.score_maximum)
            line_item.set_label(item.line_item.label)
            line_item.set_resource_id(item.line_item.resource_id)
            line_item.set_tag(item.line_item.tag)
            link.set_lineitem(line_item)
        resources.append(link)
    response = _Response(
        _Signer(issuer, client_id, key),
        deployment_id,
        {"deep_link_return_url": settings.return_url, "data": settings.data},
    )
    return str(response.get_response_jwt(resources))
