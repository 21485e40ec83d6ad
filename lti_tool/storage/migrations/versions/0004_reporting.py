"""xAPI identity per registration; what was last reported about each learner

Revision ID: 0004_reporting
Revises: 0003_learning
Create Date: 2026-11-23 17:10:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0004_reporting"
down_revision = "0003_learning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("xapi_identity", sa.JSON(), nullable=True))
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reported", sa.JSON(), nullable=True))
    # Identity moved to the registration: an LRS connection may serve several registrations.
    with op.batch_alter_table("lrs_connections", schema=None) as batch_op:
        batch_op.drop_column("identity")


def downgrade() -> None:
    with op.batch_alter_table("lrs_connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_column("reported")
        batch_op.drop_column("email")
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.drop_column("xapi_identity")
