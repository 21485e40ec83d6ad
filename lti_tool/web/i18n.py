"""The pages in the learner's language: the locale comes from the launch
(`launch_presentation.locale`), else the browser's `Accept-Language`; English is complete and
French is the second locale. Dates and numbers are formatted by Babel (flask-babel) in that
locale, in the time zone the link's custom `timezone` parameter names (UTC otherwise).

Translations live in `lti_tool/web/translations/` (`make translations` extracts and compiles
them; a test keeps the French catalog complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_decimal, format_percent, get_locale, get_translations

from lti_tool.lti.vocabulary import custom_parameter, launch_locale
from lti_tool.storage import LaunchRecord


def _(text: str) -> str:
    """Marks a message for extraction (`make translations`); translated per request."""
    return text


LABELS = {
    "format": {
        "video": _("video"),
        "text": _("reading"),
        "interactive": _("interactive"),
        "simulation": _("simulation"),
        "scenario": _("scenario"),
        "audio": _("audio"),
    },
    "kind": {"lesson": _("lesson"), "practice": _("practice"), "assessment": _("assessment")},
    "minutes": {"n": _("%(n)s min")},
    "status": {
        "not_started": _("Not started"),
        "learning": _("Learning"),
        "mastered": _("Mastered"),
        "review_due": _("Review due"),
    },
}
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


class _Formats:
    """What the request formats with, found once per request: its translations, locale and
    time zone (each filter call then costs one lookup in `g`, not flask-babel's three)."""

    __slots__ = ("translations", "locale", "_zone", "_percent")

    def __init__(self) -> None:
        self.translations = get_translations()
        self.locale = str(get_locale())
        self._zone: ZoneInfo | None = None
        self._percent: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        if self._zone is None:
            self._zone = ZoneInfo(select_timezone())
        return self._zone

    @property
    def percent(self) -> str:
        if self._percent is None:  # the locale's way of writing a percent
            self._percent = str(format_percent(0.5)).replace("50", "{}", 1)
        return self._percent


# The request's formats, set empty when the request starts and filled at the first filter call
# (the launch, and so the locale, is known only once the view runs). A page calls the filters
# hundreds of times: a context variable is read in a fraction of the time `g` takes.
_REQUEST_FORMATS: ContextVar[list[_Formats] | None] = ContextVar("skillpath_formats", default=None)


def _formats() -> _Formats:
    holder = _REQUEST_FORMATS.get()
    if holder is None:  # outside a request that `init_app` saw start
        return _formats_in_g()
    if not holder:
        holder.append(_Formats())
    return holder[0]


def _formats_in_g() -> _Formats:
    found = g.get("skillpath_formats")
    if found is None:
        found = g.skillpath_formats = _Formats()
    return found  # type: ignore[no-any-return]


def _request_started() -> None:
    g.skillpath_formats_token = _REQUEST_FORMATS.set([])


def _request_ended(_: BaseException | None) -> None:
    token = g.pop("skillpath_formats_token", None)
    if token is not None:
        _REQUEST_FORMATS.reset(token)


def day(value: Any, form: str = "medium") -> str:
    """A date as the learner writes it (in their time zone)."""
    moment = _moment(value)
    if moment is None:
        return ""
    formats = _formats()
    local = moment.astimezone(formats.zone).date() if moment.tzinfo else moment.date()
    return _formatted_day(local, form, formats.locale)


@lru_cache(maxsize=4096)
def _formatted_day(local: date, form: str, locale: str) -> str:
    # Each distinct (day, form, locale) is formatted once per process: the paths of a
    # course repeat the same days, and Babel's formatting costs more than the page's lookup.
    return str(dates.format_date(local, form, locale=locale))


def _translations() -> Any:
    """The request's translations, looked up once per request (flask-babel's own lookup
    costs more than the message it finds, and a class view asks for thousands)."""
    return _formats().translations


def percent(value: Any) -> str:
    """A share in [0, 1] as a whole percent in the learner's locale ("82%", "82 %")."""
    try:
        whole = round(float(value) * 100)
    except (TypeError, ValueError):
        return ""
    return _formats().percent.format(whole)


def number(value: Any, digits: int = 0) -> str:
    if not digits and isinstance(value, int | float) and float(value).is_integer():
        if abs(value) < 1000:  # no grouping, no decimals: the same in every locale
            return str(int(value))
    try:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(float(value), pattern)
    except (TypeError, ValueError):
        return ""


def labels() -> dict[str, dict[str, str]]:
    """The names of formats, lesson kinds and statuses in the learner's language (made once
    per locale and process: they come from the compiled catalogs, which do not change while
    it runs)."""
    formats = _formats()
    found = _LABELS_BY_LOCALE.get(formats.locale)
    if found is None:
        found = _LABELS_BY_LOCALE[formats.locale] = {
            group: {key: formats.translations.ugettext(text) for key, text in names.items()}
            for group, names in LABELS.items()
        }
    return found


_LABELS_BY_LOCALE: dict[str, dict[str, dict[str, str]]] = {}


def format_label(value: Any) -> str:
    return labels()["format"].get(str(value), str(value))


def kind_label(value: Any) -> str:
    return labels()["kind"].get(str(value), str(value))


def status_label(value: Any) -> str:
    return labels()["status"].get(str(value), str(value))


def minutes_label(value: Any) -> str:
    """ "8 min" in the learner's language."""
    return _phrase(LABELS["minutes"]["n"], n=number(value))


# Phrases a page repeats once per step or competency, formatted here: through jinja's
# `_()` each one costs a context call and Markup formatting, and the path map of a long
# pathway has hundreds (the page escapes the result like any other text).
BY_DAY = _("by %(day)s")
ATTEMPTS = _("about %(n)s attempts")
GOAL_LEVEL = _("goal %(g)s")


def _phrase(message: str, **values: Any) -> str:
    text: str = _translations().ugettext(message)
    return text % values


def by_day(value: Any) -> str:
    """ "by Dec 3, 2026": when a step of the path is expected."""
    return _phrase(BY_DAY, day=day(value))


def attempts_label(value: Any) -> str:
    """ "about 9 attempts"."""
    return _phrase(ATTEMPTS, n=value)


def goal_label(value: Any) -> str:
    """ "goal 80%": a competency's goal level."""
    return _phrase(GOAL_LEVEL, g=percent(value))


# What a page shows for someone the platform shares no name for: their number in the course
# when they have opened Skillpath there (`learner_numbers`), else their role.
LEARNER_NUMBERED = _("Learner %(n)s")
ROLE_LABELS = {"learner": _("Learner"), "instructor": _("Instructor"), "other": _("Member")}


def _field(who: Any, key: str) -> Any:
    return who.get(key) if isinstance(who, Mapping) else getattr(who, key, None)


def learner_label(who: Any) -> str:
    """The one place that names a person on the instructor's pages and exports: the name the
    platform shared, else "Learner 7" (their number in the course), else their role. Never
    their LTI user id (`sub`), which stays in links and data attributes only. `who` is any
    row with `name`, `number` and (optionally) `role`, as an object or a dict."""
    name = _field(who, "name")
    if isinstance(name, str) and name.strip():
        return name
    number = _field(who, "number")
    if isinstance(number, int) and number > 0:
        text: str = _translations().ugettext(LEARNER_NUMBERED)
        return text % {"n": number}
    role = _field(who, "role")
    return str(_translations().ugettext(ROLE_LABELS.get(str(role), ROLE_LABELS["learner"])))


def init_app(app: Flask) -> None:
    app.before_request(_request_started)
    app.teardown_request(_request_ended)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "web/translations")
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda text: _translations().ugettext(text),
        lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        day=day,
        percent=percent,
        number=number,
        format_label=format_label,
        kind_label=kind_label,
        status_label=status_label,
        minutes_label=minutes_label,
        by_day=by_day,
        attempts_label=attempts_label,
        goal_label=goal_label,
        learner_label=learner_label,
    )
    app.jinja_env.globals.update(locale=select_locale, labels=labels)
