"""The pages' template environment looks `a.b` up on a plain dict by key first: the same
value, or the same error, as Jinja's own lookup, only without raising an AttributeError per
lookup first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jinja2 import StrictUndefined, UndefinedError

from lti_tool.web.templating import PageEnvironment, SkillpathFlask


def render(source: str, **values: object) -> str:
    environment = SkillpathFlask(__name__).jinja_env
    assert isinstance(environment, PageEnvironment)
    environment.undefined = StrictUndefined  # as the app sets it
    return environment.from_string(source).render(**values)


def test_a_dicts_keys_read_as_attributes() -> None:
    step = {"title": "Escalation", "meta": {"minutes": 8}}
    assert render("{{ s.title }} · {{ s.meta.minutes }}", s=step) == "Escalation · 8"


def test_dict_methods_stay_methods_even_beside_a_key_of_that_name() -> None:
    shown = {"items": "a key", "b": 2}
    assert render("{{ d.items()|list|length }} {{ d['items'] }}", d=shown) == "2 a key"
    assert render("{{ d.get('b') }}", d=shown) == "2"


def test_a_missing_key_is_undefined_as_before() -> None:
    with pytest.raises(UndefinedError):
        render("{{ d.nothing }}", d={"title": "x"})
    assert render("{{ d.nothing is defined }}", d={}) == "False"


def test_objects_and_dict_subclasses_keep_jinjas_lookup() -> None:
    class Named(dict[str, str]):
        title = "from the class"

    assert render("{{ o.title }}", o=SimpleNamespace(title="attribute")) == "attribute"
    assert render("{{ o.title }}", o=Named(title="key")) == "from the class"
