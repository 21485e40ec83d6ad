"""pylti1p3's launch-data storage, kept in Skillpath's shared store (database or Redis), so a
launch restored with `from_cache(launch_id)` works on any instance."""

from __future__ import annotations

from typing import Any

from pylti1p3.launch_data_storage.base import LaunchDataStorage

from lti_tool.shared_store import SharedStore

LAUNCH_DATA_SECONDS = 8 * 3600


class StoreLaunchData(LaunchDataStorage[Any]):
    # No session cookie: the launch must work when the browser blocks third-party cookies.
    _session_cookie_name = ""

    def __init__(self, store: SharedStore) -> None:
        super().__init__()
        self._store = store

    def get_session_cookie_name(self) -> str | None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self._store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self._store.put(self._prepare_key(key), value, exp or LAUNCH_DATA_SECONDS)

    def check_value(self, key: str) -> bool:
        return self._store.get(self._prepare_key(key)) is not None
