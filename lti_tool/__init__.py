"""Skillpath's Flask app: LTI 1.3 login and launch, pages, API, command line, storage.

`create_app` is the one way to build the app; the CLI is `lti_tool.cli:main`.
"""

from lti_tool.app import create_app

__all__ = ["create_app"]
