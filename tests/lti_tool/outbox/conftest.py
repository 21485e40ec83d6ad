"""A scripted deliverer for the outbox machinery (the receiver behind it is not under test
here: the AGS tests deliver to the real platform peer)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask

from lti_tool.container import Container
from lti_tool.outbox import Delivered, DeliveryResult, ItemToDeliver

KIND = "test_note"


@dataclass
class ScriptedDeliverer:
    """Answers from `script(item)`; records every item it was given."""

    script: Callable[[ItemToDeliver], DeliveryResult] = lambda item: Delivered()
    seen: list[ItemToDeliver] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, item: ItemToDeliver) -> DeliveryResult:
        with self.lock:
            self.seen.append(item)
        return self.script(item)


@pytest.fixture
def services(app: Flask) -> Container:
    services: Container = app.extensions["skillpath"]
    return services


@pytest.fixture
def scripted(services: Container) -> Iterator[ScriptedDeliverer]:
    deliverer = ScriptedDeliverer()
    services.deliverers.register(KIND, deliverer)
    yield deliverer
    services.deliverers.unregister(KIND)
