"""The pages' template environment: Flask's, with a faster lookup of `a.b` on plain dicts.

A learner page reads its stored view (JSON: nested dicts) a thousand times per render as
`step.title`, `m.status` and so on. Jinja looks an attribute up first and an item second, so
each of those lookups raised and caught an `AttributeError` before finding the key: the
largest single cost of rendering the page. For a plain dict and a name that is not one of
dict's own attributes, that first lookup can only fail, so it is skipped; the result is the
same value (or the same undefined) as Jinja's own lookup.

Its JSON responses are written by orjson (`OrjsonProvider`)."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.templating import Environment
from werkzeug.sansio.response import Response

from lti_tool import jsonio

_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON responses written by orjson (`lti_tool.jsonio`): the same documents, keys
    sorted, dates and dataclasses converted as Flask converts them; what orjson refuses is
    written by the standard library as before. Request bodies are still read by the standard
    library (its errors are the ones the API reports)."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        try:
            body = jsonio.dumps_bytes(obj, self.default, sort_keys=self.sort_keys, indent=indent)
        except (TypeError, ValueError):
            return super().response(*args, **kwargs)
        make = cast(Any, self._app.response_class)  # it takes bytes as well as text
        return cast(Response, make(body, mimetype=self.mimetype))


class SkillpathFlask(Flask):
    """Flask with `PageEnvironment` for its templates and orjson for its JSON responses."""

    jinja_environment = PageEnvironment
    json_provider_class = OrjsonProvider
