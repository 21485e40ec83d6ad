"""catalogs, LRS connections, learners, evidence

Revision ID: 0003_learning
Revises: 0002_outbox
Create Date: 2026-11-23 15:21:29.485967
"""

from alembic import op
import sqlalchemy as sa

revision = "0003_learning"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_catalog_tenant"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("statement_id", sa.String(length=64), nullable=False),
        sa.Column("lesson_id", sa.String(length=1000), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", "statement_id", name="uq_evidence_statement"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_learner", ["issuer", "client_id", "subject"], unique=False
        )

    op.create_table(
        "learners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("deployment_id", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("pathway_id", sa.String(length=200), nullable=False),
        sa.Column("context_id", sa.String(length=500), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("first_launch_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_recommended", sa.String(length=1000), nullable=True),
        sa.Column("last_progress", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "issuer", "client_id", "deployment_id", "subject", "pathway_id", name="uq_learner"
        ),
    )
    op.create_table(
        "lrs_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("username", sa.String(length=500), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("sync_cursor", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lrs_tenant"),
    )


def downgrade() -> None:
    op.drop_table("lrs_connections")
    op.drop_table("learners")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_learner")

    op.drop_table("evidence")
    op.drop_table("catalogs")
