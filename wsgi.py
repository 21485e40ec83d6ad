"""WSGI entry point for gunicorn and other servers: `gunicorn wsgi:app`.

Settings come from the `SKILLPATH_*` environment variables (see README)."""

from lti_tool import create_app

app = create_app()
