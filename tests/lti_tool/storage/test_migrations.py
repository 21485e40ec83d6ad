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


def test_learner_records_move_to_courses_and_back(settings: Settings) -> None:
    """0005 keys learner records by course; going back keeps one record per learner and
    pathway (the most recent)."""
    from sqlalchemy import text

    database = Storage(settings.database_url)
    try:
        database.migrate("upgrade", "0004_reporting")
        row = (
            "INSERT INTO learners (issuer, client_id, deployment_id, subject, pathway_id, "
            "context_id, state, first_launch_at, updated_at) VALUES ('i', 'c', 'd', 's', 'p', "
            ":context, '{}', '2026-11-30 10:00:00+00', '2026-11-30 10:00:00+00')"
        )
        with database.engine.begin() as connection:
            connection.execute(text(row), {"context": None})
        database.upgrade()
        with database.engine.begin() as connection:
            assert connection.execute(text("SELECT context_id FROM learners")).scalar() == ""
            # The learner recorded before the pages' tables exists there, due a replay.
            marked = connection.execute(text("SELECT replay_needed FROM learner_pages")).all()
            assert [bool(m[0]) for m in marked] == [True]
            connection.execute(text(row), {"context": "course-2"})
            assert connection.execute(text("SELECT count(*) FROM learners")).scalar() == 2
        database.migrate("downgrade", "0004_reporting")
        with database.engine.begin() as connection:
            kept = connection.execute(text("SELECT context_id FROM learners")).scalars().all()
        assert kept == ["course-2"]
    finally:
        database.dispose()


def test_outbox_health_gives_waiting_items_their_destination_and_goes_back(
    settings: Settings,
) -> None:
    """0006 names the destination of every waiting item (kind and tenant) and adds the
    destinations' health table; going back drops both."""
    from sqlalchemy import text

    database = Storage(settings.database_url)
    try:
        database.migrate("upgrade", "0005_learner_course")
        row = (
            "INSERT INTO outbox_items (kind, payload, status, attempts, uncertain, "
            "next_attempt_at, created_at) VALUES ('ags_score', :payload, :status, 0, false, "
            "'2026-11-30 10:00:00+00', '2026-11-30 10:00:00+00')"
        )
        with database.engine.begin() as connection:
            payload = '{"issuer": "https://lms.example", "client_id": "c1"}'
            connection.execute(text(row), {"payload": payload, "status": "pending"})
            connection.execute(text(row), {"payload": payload, "status": "delivered"})
        database.upgrade()
        with database.engine.begin() as connection:
            found = connection.execute(
                text("SELECT status, destination FROM outbox_items ORDER BY id")
            ).all()
        assert [tuple(r) for r in found] == [
            ("pending", "ags_score https://lms.example c1"),
            ("delivered", ""),
        ]
        assert "outbox_destinations" in _shape(database)
        database.migrate("downgrade", "0005_learner_course")
        shape = _shape(database)
        assert "outbox_destinations" not in shape
        assert "destination" not in shape["outbox_items"]
    finally:
        database.dispose()
