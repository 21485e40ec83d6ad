"""fits of the learner model per tenant, versioned, with their reports

Revision ID: 0009_model_fits
Revises: 0008_pages
Create Date: 2026-11-30 18:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0009_model_fits"
down_revision = "0008_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_fits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("catalog_digest", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("evidence_seen", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", "version", name="uq_model_fit_version"),
    )
    op.create_index("ix_model_fit_tenant", "model_fits", ["issuer", "client_id", "active"])


def downgrade() -> None:
    op.drop_index("ix_model_fit_tenant", table_name="model_fits")
    op.drop_table("model_fits")
