"""the admin console: registration status, source and LMS family; local admin accounts; the audit log

Revision ID: 0007_admin
Revises: 0006_outbox_health
Create Date: 2026-12-01 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_admin"
down_revision = "0006_outbox_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Registrations made before this migration were typed in by an admin: active, manual.
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="active")
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="manual")
        )
        batch_op.add_column(sa.Column("product_family_code", sa.String(length=100), nullable=True))
    op.create_table(
        "admin_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_tenant", ["issuer", "client_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_tenant")
    op.drop_table("audit_log")
    op.drop_table("admin_accounts")
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.drop_column("product_family_code")
        batch_op.drop_column("source")
        batch_op.drop_column("status")
