"""outbox health per destination: items name their destination; destinations keep their health

Revision ID: 0006_outbox_health
Revises: 0005_learner_course
Create Date: 2026-11-30 17:30:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0006_outbox_health"
down_revision = "0005_learner_course"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("destination", sa.String(length=1100), nullable=False, server_default="")
        )
        batch_op.create_index(
            "ix_outbox_destination", ["destination", "status", "next_attempt_at"], unique=False
        )
    # Items already waiting get the destination enqueue would give them (kind, issuer,
    # client id of their payload); finished ones keep the empty one.
    connection = op.get_bind()
    items = sa.table(
        "outbox_items",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("destination", sa.String),
    )
    waiting = connection.execute(
        sa.select(items.c.id, items.c.kind, items.c.payload).where(items.c.status == "pending")
    ).all()
    for item_id, kind, payload in waiting:
        payload = payload or {}
        destination = f"{kind} {payload.get('issuer', '')} {payload.get('client_id', '')}"
        connection.execute(
            items.update().where(items.c.id == item_id).values(destination=destination[:1100])
        )
    op.create_table(
        "outbox_destinations",
        sa.Column("destination", sa.String(length=1100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("destination"),
    )


def downgrade() -> None:
    op.drop_table("outbox_destinations")
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_destination")
        batch_op.drop_column("destination")
