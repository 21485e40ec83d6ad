"""registrations, deployments, tool keys, launches, store

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-23 14:42:07.724149
"""

from alembic import op
import sqlalchemy as sa


revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("deployment_id", sa.String(length=500), nullable=False),
        sa.Column("message_type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("user_name", sa.String(length=500), nullable=True),
        sa.Column("context_id", sa.String(length=500), nullable=True),
        sa.Column("context_title", sa.String(length=1000), nullable=True),
        sa.Column("resource_link_id", sa.String(length=500), nullable=True),
        sa.Column("resource_link_title", sa.String(length=1000), nullable=True),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_launch_tenant_context",
            ["issuer", "client_id", "deployment_id", "context_id"],
            unique=False,
        )

    op.create_table(
        "platform_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("auth_login_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_audience", sa.String(length=1000), nullable=True),
        sa.Column("keyset_url", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_registration_issuer_client"),
    )
    op.create_table(
        "store_entries",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("store_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_store_entries_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "tool_keys",
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid"),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["platform_registrations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "registration_id", "deployment_id", name="uq_deployment_per_registration"
        ),
    )


def downgrade() -> None:
    op.drop_table("deployments")
    op.drop_table("tool_keys")
    with op.batch_alter_table("store_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_entries_expires_at"))

    op.drop_table("store_entries")
    op.drop_table("platform_registrations")
    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.drop_index("ix_launch_tenant_context")

    op.drop_table("launches")
