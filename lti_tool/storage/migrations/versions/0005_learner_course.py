"""learner records keyed by course: the same person in two courses has two records

Revision ID: 0005_learner_course
Revises: 0004_reporting
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0005_learner_course"
down_revision = "0004_reporting"
branch_labels = None
depends_on = None

KEY = ["issuer", "client_id", "deployment_id", "subject", "pathway_id"]


def upgrade() -> None:
    # Existing rows keep the course of the learner's first launch; a launch without a
    # context is the course with the empty context id.
    op.execute("UPDATE learners SET context_id = '' WHERE context_id IS NULL")
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.alter_column(
            "context_id",
            existing_type=sa.String(length=500),
            existing_nullable=True,
            nullable=False,
        )
        batch_op.drop_constraint("uq_learner", type_="unique")
        batch_op.create_unique_constraint(
            "uq_learner_course",
            ["issuer", "client_id", "deployment_id", "context_id", "subject", "pathway_id"],
        )


def downgrade() -> None:
    # One record per learner and pathway again: the most recent course's record is kept.
    op.execute(
        "DELETE FROM learners WHERE id NOT IN (SELECT keep FROM (SELECT MAX(id) AS keep "
        f"FROM learners GROUP BY {', '.join(KEY)}) AS newest)"
    )
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_constraint("uq_learner_course", type_="unique")
        batch_op.create_unique_constraint("uq_learner", KEY)
        batch_op.alter_column(
            "context_id",
            existing_type=sa.String(length=500),
            existing_nullable=False,
            nullable=True,
        )
