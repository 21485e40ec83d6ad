"""Readiness: can this instance serve (database reachable and migrated, shared store up)."""

from __future__ import annotations

from lti_tool.usecases.ports import Ports


def readiness_problems(ports: Ports) -> list[str]:
    """What keeps this instance from serving; empty when it is ready."""
    problems = []
    try:
        ports.storage.ping()
        if not ports.storage.at_head():
            problems.append("database: schema is not at the newest migration (skillpath init)")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        problems.append(f"database: {type(exc).__name__}")
    try:
        ports.store.ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"store: {type(exc).__name__}")
    return problems
