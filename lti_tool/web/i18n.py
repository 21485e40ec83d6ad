"""The pages in the learner's language: the locale comes from the launch
(`launch_presentation.locale`), else the browser's `Accept-Language`; English is complete and
French is the second locale. Dates and numbers are formatted by Babel (flask-babel) in that
locale, in the time zone the link's custom `timezone` parameter names (UTC otherwise).

Translations live in `lti_tool/web/translations/` (`make translations` extracts and compiles
them; a test keeps the French catalog complete).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_date, format_decimal, format_percent

from lti_tool.lti.vocabulary import custom_parameter, launch_locale
from lti_tool.storage import LaunchRecord

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"


def _launch() -> LaunchRecord | None:
    found = g.get("skillpath_launch") if has_request_context() else None
    return found if isinstance(found, LaunchRecord) else None


def select_locale() -> str:
    launch = _launch()
    wanted = launch_locale(launch.claims) if launch is not None else None
    if wanted:
        language = wanted.replace("_", "-").split("-")[0].lower()
        if language in LOCALES:
            return language
    if has_request_context():
        return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def select_timezone() -> str:
    launch = _launch()
    name = custom_parameter(launch.claims, "timezone") if launch is not None else None
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def day(value: Any, form: str = "medium") -> str:
    """A date as the learner writes it (in their time zone)."""
    moment = _moment(value)
    return format_date(moment, form) if moment is not None else ""


def percent(value: Any) -> str:
    """A share in [0, 1] as a whole percent in the learner's locale."""
    try:
        return format_percent(float(value), "#,##0%")
    except (TypeError, ValueError):
        return ""


def number(value: Any, digits: int = 0) -> str:
    try:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(float(value), pattern)
    except (TypeError, ValueError):
        return ""


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "web/translations")
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(day=day, percent=percent, number=number)
    app.jinja_env.globals.update(locale=select_locale)
