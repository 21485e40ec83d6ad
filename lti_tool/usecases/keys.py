"""The tool's public keys, as platforms fetch them."""

from __future__ import annotations

from typing import Any

from lti_tool.lti import tool_keys
from lti_tool.usecases.ports import Ports


def public_jwks(ports: Ports) -> dict[str, list[dict[str, Any]]]:
    """The current key, then retired keys still inside their retention window."""
    with ports.storage.transaction() as tx:
        return tool_keys.published_jwks(tx, ports.now())
