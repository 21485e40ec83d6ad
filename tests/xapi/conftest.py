"""Fixtures of the xAPI tests: the real LRS peers (`tests/peers/lrs.py`)."""

from tests.peers.lrs_fixtures import learning_locker, lrs, ralph

__all__ = ["learning_locker", "lrs", "ralph"]
