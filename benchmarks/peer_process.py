"""The platform peer in a process of its own, for benchmarks that must not share a GIL (and a
core) with the tool: a real LMS is another system. The peer object lives in a manager
process; the handle here offers what the benchmarks read of it."""

from __future__ import annotations

from multiprocessing.managers import BaseManager
from typing import Any

from peers.lti_platform import PlatformPeer
from peers.platform_store import ScorePost


class PeerHandle:
    """Lives in the peer's process: starts the peer and answers with plain data."""

    def __init__(self) -> None:
        self._peer = PlatformPeer().start()

    def urls(self) -> dict[str, str]:
        peer = self._peer
        return {
            "issuer": peer.issuer,
            "auth_login_url": peer.auth_login_url,
            "auth_token_url": peer.auth_token_url,
            "keyset_url": peer.keyset_url,
        }

    def register_tool(self, *args: Any, **kwargs: Any) -> None:
        self._peer.register_tool(*args, **kwargs)

    def default_claims(self, **params: Any) -> dict[str, Any]:
        return self._peer.default_claims(**params)

    def line_items(self, context_id: str | None = None) -> list[dict[str, Any]]:
        return self._peer.gradebook.line_items(context_id)

    def posts(self) -> list[ScorePost]:
        return self._peer.gradebook.posts()

    def tokens_issued(self) -> list[dict[str, Any]]:
        return list(self._peer.tokens_issued)

    def stop(self) -> None:
        self._peer.stop()


class _Manager(BaseManager):
    pass


_Manager.register("PeerHandle", PeerHandle)


class _Gradebook:
    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def line_items(self, context_id: str | None = None) -> list[dict[str, Any]]:
        return self._handle.line_items(context_id)  # type: ignore[no-any-return]

    def posts(self) -> list[ScorePost]:
        return self._handle.posts()  # type: ignore[no-any-return]


class PeerInProcess:
    """What the grades benchmark uses of `PlatformPeer`, served from the peer's process."""

    def __init__(self) -> None:
        self._manager = _Manager()
        self._manager.start()
        self._handle = self._manager.PeerHandle()  # type: ignore[attr-defined]
        urls = self._handle.urls()
        self.issuer: str = urls["issuer"]
        self.auth_login_url: str = urls["auth_login_url"]
        self.auth_token_url: str = urls["auth_token_url"]
        self.keyset_url: str = urls["keyset_url"]
        self.gradebook = _Gradebook(self._handle)

    @property
    def tokens_issued(self) -> list[dict[str, Any]]:
        return self._handle.tokens_issued()  # type: ignore[no-any-return]

    def register_tool(self, *args: Any, **kwargs: Any) -> None:
        self._handle.register_tool(*args, **kwargs)

    def default_claims(self, **params: Any) -> dict[str, Any]:
        return self._handle.default_claims(**params)  # type: ignore[no-any-return]

    def stop(self) -> None:
        try:
            self._handle.stop()
        finally:
            self._manager.shutdown()
