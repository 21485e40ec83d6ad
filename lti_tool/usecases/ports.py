"""What a use case may reach, as one protocol: the container (`lti_tool.container`) satisfies
it, and a use case never imports the container, Flask, SQLAlchemy or requests."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from config import Settings
from lti_tool.lrs.gateway import LrsGateway
from lti_tool.lti.dynamic_registration import PlatformRegistrar
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.tool_keys import CurrentKey
from lti_tool.storage import SecretBox, SharedStore, Storage


class Ports(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def store(self) -> SharedStore: ...

    @property
    def box(self) -> SecretBox: ...

    @property
    def lrs(self) -> LrsGateway: ...

    @property
    def lti_services(self) -> ServiceClients: ...

    @property
    def signing_key(self) -> CurrentKey: ...

    @property
    def registrar(self) -> PlatformRegistrar: ...

    def now(self) -> datetime: ...
