"""Alembic environment: runs on the connection `Database.upgrade` hands over."""

from alembic import context

import lti_tool.outbox.models  # noqa: F401 - its tables are on the same metadata
from lti_tool.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
