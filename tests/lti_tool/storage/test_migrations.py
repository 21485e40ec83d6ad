"""Every migration goes down as well as up: head -> base -> head leaves the same tables,
on SQLite and (when `SKILLPATH_TEST_DATABASE_URL` is set) PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from config import Settings
from lti_tool.storage import Storage


def _run(database: Storage, action: str, target: str) -> None:
    database.migrate(action, target)


def _shape(database: Storage) -> dict[str, list[str]]:
    inspector = inspect(database.engine)
    return {
        table: sorted(column["name"] for column in inspector.get_columns(table))
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def test_migrations_go_down_and_up_again(settings: Settings) -> None:
    database = Storage(settings.database_url)
    try:
        database.upgrade()
        at_head = _shape(database)
        assert "learners" in at_head and "email" in at_head["learners"]
        _run(database, "downgrade", "0003_learning")
        assert "email" not in _shape(database)["learners"]
        assert "identity" in _shape(database)["lrs_connections"]
        _run(database, "downgrade", "base")
        assert _shape(database) == {}
        database.upgrade()
        assert _shape(database) == at_head
    finally:
        database.dispose()
