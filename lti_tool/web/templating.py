"""The pages' template environment: Flask's, with a faster lookup of `a.b` on plain dicts.

A learner page reads its stored view (JSON: nested dicts) a thousand times per render as
`step.title`, `m.status` and so on. Jinja looks an attribute up first and an item second, so
each of those lookups raised and caught an `AttributeError` before finding the key: the
largest single cost of rendering the page. For a plain dict and a name that is not one of
dict's own attributes, that first lookup can only fail, so it is skipped; the result is the
same value (or the same undefined) as Jinja's own lookup."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.templating import Environment

_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class SkillpathFlask(Flask):
    """Flask with `PageEnvironment` for its templates."""

    jinja_environment = PageEnvironment
