"""Which deliverer sends which kind of item. Each kind registers a factory that builds its
deliverer from the process's `Services`; the xAPI side registers `xapi_statement` the same
way AGS registers `ags_score`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from lti_tool.outbox.delivery import Deliverer, DelivererRegistry

if TYPE_CHECKING:
    from lti_tool.services import Services

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


def _load_builtins() -> None:
    # AGS registers itself on import; imported lazily so the outbox does not depend on it.
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        import lti_tool.ags.deliverer  # noqa: F401


def build_deliverers(services: Services) -> DelivererRegistry:
    """One deliverer per registered kind, for one worker."""
    _load_builtins()
    registry = DelivererRegistry()
    with _lock:
        factories = dict(_factories)
    for kind, factory in factories.items():
        registry.register(kind, factory(services))
    return registry
