"""the pages: incremental learner state and stored views, recognitions, equity groups

Revision ID: 0008_pages
Revises: 0007_admin
Create Date: 2026-12-01 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_pages"
down_revision = "0007_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner_pages",
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learners.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("launch_id", sa.String(length=64), nullable=True),
        sa.Column("evidence_cursor", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("evidence_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_needed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("params_version", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("preferences", sa.JSON(), nullable=True),
        sa.Column("pre_assessment", sa.JSON(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("opened", sa.JSON(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "recognitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learners.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("milestone_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("learner_id", "milestone_id", name="uq_recognition"),
    )
    op.create_table(
        "learner_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("deployment_id", sa.String(length=500), nullable=False),
        sa.Column("context_id", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.UniqueConstraint(
            "issuer", "client_id", "deployment_id", "context_id", "subject", name="uq_learner_group"
        ),
    )
    # Evidence is read per learner from a cursor (row id): the learner index serves it.
    # Learners recorded before this migration get their page row now, marked for a replay:
    # the background catch-up (or their next launch) builds their state and views.
    op.execute(
        "INSERT INTO learner_pages (learner_id, evidence_cursor, replay_needed, params_version) "
        "SELECT id, 0, TRUE, '' FROM learners"
    )


def downgrade() -> None:
    op.drop_table("learner_groups")
    op.drop_table("recognitions")
    op.drop_table("learner_pages")
