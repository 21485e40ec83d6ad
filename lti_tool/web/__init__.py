"""The web edge: blueprints for the LTI endpoints, pages, JSON API, probes and the xAPI
profile, and the one error handler. A view parses its input, calls one use case and renders."""

from __future__ import annotations

from flask import Flask

from lti_tool.web import api, errors, health, lti, openapi, pages, xapi_profile


def init_app(app: Flask) -> None:
    errors.init_app(app)
    for blueprint in (lti.bp, pages.bp, health.bp, api.bp, openapi.bp, xapi_profile.bp):
        app.register_blueprint(blueprint)
