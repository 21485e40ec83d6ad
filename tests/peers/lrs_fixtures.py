"""pytest fixtures for the real LRS peers (`peers.lrs`): one of each per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peers.lrs import LrsPeer, PeerUnavailable, start_learning_locker, start_ralph


def _started(start: object, workdir: Path) -> LrsPeer:
    try:
        return start(workdir)  # type: ignore[operator,no-any-return]
    except PeerUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def learning_locker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsPeer]:
    """Learning Locker's statement service, one per test session."""
    peer = _started(start_learning_locker, tmp_path_factory.mktemp("learning-locker"))
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsPeer]:
    """Ralph with the filesystem backend, one per test session."""
    peer = _started(start_ralph, tmp_path_factory.mktemp("ralph"))
    yield peer
    peer.stop()


@pytest.fixture(scope="session", params=["learning-locker", "ralph"])
def lrs(request: pytest.FixtureRequest) -> LrsPeer:
    """Each real LRS in turn."""
    return request.getfixturevalue(request.param.replace("-", "_"))
