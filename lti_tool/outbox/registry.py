"""Which deliverer sends which kind of item. Each kind registers a factory that builds its
deliverer from the process's `Services`; the xAPI side registers `xapi_statement` the same
way AGS registers `ags_score`."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from lti_tool.outbox.delivery import Deliverer, DelivererRegistry

if TYPE_CHECKING:
    from lti_tool.services import Services

log = logging.getLogger("skillpath.outbox")

DelivererFactory = Callable[["Services"], Deliverer]

_factories: dict[str, DelivererFactory] = {}
_lock = threading.Lock()
_builtins_loaded = False


def register_deliverer(kind: str, factory: DelivererFactory) -> None:
    """Make `kind` deliverable: `factory(services)` builds its deliverer once per worker."""
    with _lock:
        _factories[kind] = factory


def unregister_deliverer(kind: str) -> None:
    with _lock:
        _factories.pop(kind, None)


def registered_kinds() -> list[str]:
    _load_builtins()
    return sorted(_factories)


# Modules whose import registers a deliverer (AGS scores, xAPI statements). Imported lazily,
# when a worker starts, so the outbox itself depends on neither.
BUILTIN_DELIVERER_MODULES = ("lti_tool.ags.deliverer", "lti_tool.learning.statements_out")


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    for name in BUILTIN_DELIVERER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.warning("deliverer module %s is not installed; its items wait", name)


def build_deliverers(services: Services) -> DelivererRegistry:
    """One deliverer per registered kind, for one worker."""
    _load_builtins()
    registry = DelivererRegistry()
    with _lock:
        factories = dict(_factories)
    for kind, factory in factories.items():
        registry.register(kind, factory(services))
    return registry
