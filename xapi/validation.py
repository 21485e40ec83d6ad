"""`validate_statement`: the xAPI rules Skillpath checks before anything is sent to an LRS.

Rejects what real LRSs reject (or should): `result.score.scaled` outside [-1, 1], `raw` outside
[`min`, `max`], `min` >= `max`, IRIs that are not absolute, timestamps that are not ISO 8601 with
a time zone, ids and registrations that are not UUIDs, and an actor with other than exactly one
identifier. All problems are reported at once, each with its JSON path.

Must not import flask, sqlalchemy or an HTTP client.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from recommender.iri import is_absolute_iri
from xapi.errors import StatementInvalid
from xapi.identity import identifier_count
from xapi.timestamps import parse_timestamp

__all__ = ["is_absolute_iri", "validate_statement"]

_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)


def validate_statement(statement: Mapping[str, Any]) -> None:
    """Raise `StatementInvalid` listing every rule `statement` breaks; return None if none."""
    problems: list[str] = []
    _Checker(problems).statement(statement, "")
    if problems:
        raise StatementInvalid("; ".join(problems))


class _Checker:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path.lstrip('.') or 'statement'}: {message}")

    def statement(self, statement: Any, path: str) -> None:
        if not isinstance(statement, Mapping):
            self.fail(path, "not an object")
            return
        if "id" in statement:
            self.uuid(statement["id"], f"{path}.id")
        for key in ("timestamp", "stored"):
            if key in statement:
                self.timestamp(statement[key], f"{path}.{key}")
        self.agent(statement.get("actor"), f"{path}.actor")
        verb = statement.get("verb")
        if not isinstance(verb, Mapping):
            self.fail(f"{path}.verb", "missing")
        else:
            self.iri(verb.get("id"), f"{path}.verb.id")
        self.object(statement.get("object"), f"{path}.object")
        if "result" in statement:
            self.result(statement["result"], f"{path}.result")
        if "context" in statement:
            self.context(statement["context"], f"{path}.context")

    def iri(self, value: Any, path: str) -> None:
        if not is_absolute_iri(value):
            self.fail(path, f"{value!r} is not an absolute IRI")

    def uuid(self, value: Any, path: str) -> None:
        try:
            uuid.UUID(str(value))
        except ValueError:
            self.fail(path, f"{value!r} is not a UUID")

    def timestamp(self, value: Any, path: str) -> None:
        try:
            parse_timestamp(value)
        except ValueError as error:
            self.fail(path, str(error))

    def agent(self, actor: Any, path: str) -> None:
        if not isinstance(actor, Mapping):
            self.fail(path, "missing")
            return
        count = identifier_count(actor)
        anonymous_group = actor.get("objectType") == "Group" and count == 0
        if count != 1 and not anonymous_group:
            self.fail(path, f"must carry exactly one identifier, has {count}")
        mbox = actor.get("mbox")
        if mbox is not None and not (isinstance(mbox, str) and mbox.startswith("mailto:")):
            self.fail(f"{path}.mbox", "must be a mailto: IRI")
        account = actor.get("account")
        if account is not None:
            if not isinstance(account, Mapping):
                self.fail(f"{path}.account", "not an object")
            else:
                self.iri(account.get("homePage"), f"{path}.account.homePage")
                if not isinstance(account.get("name"), str) or not account.get("name"):
                    self.fail(f"{path}.account.name", "missing")
        for index, member in enumerate(actor.get("member", []) or []):
            self.agent(member, f"{path}.member[{index}]")

    def object(self, target: Any, path: str) -> None:
        if not isinstance(target, Mapping):
            self.fail(path, "missing")
            return
        kind = target.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(target, path)
        elif kind in ("Agent", "Group"):
            self.agent(target, path)
        elif kind == "StatementRef":
            self.uuid(target.get("id"), f"{path}.id")
        elif kind == "SubStatement":
            self.statement(target, path)
        else:
            self.fail(f"{path}.objectType", f"unknown {kind!r}")

    def activity(self, activity: Any, path: str) -> None:
        if not isinstance(activity, Mapping):
            self.fail(path, "not an object")
            return
        self.iri(activity.get("id"), f"{path}.id")
        definition = activity.get("definition")
        if isinstance(definition, Mapping):
            if "type" in definition:
                self.iri(definition["type"], f"{path}.definition.type")
            self.extensions(definition.get("extensions"), f"{path}.definition.extensions")

    def extensions(self, extensions: Any, path: str) -> None:
        if extensions is None:
            return
        if not isinstance(extensions, Mapping):
            self.fail(path, "not an object")
            return
        for key in extensions:
            self.iri(key, f"{path}[{key!r}]")

    def result(self, result: Any, path: str) -> None:
        if not isinstance(result, Mapping):
            self.fail(path, "not an object")
            return
        for key in ("success", "completion"):
            if key in result and not isinstance(result[key], bool):
                self.fail(f"{path}.{key}", "not a boolean")
        duration = result.get("duration")
        if duration is not None and not (isinstance(duration, str) and _DURATION.match(duration)):
            self.fail(f"{path}.duration", f"{duration!r} is not an ISO 8601 duration")
        self.extensions(result.get("extensions"), f"{path}.extensions")
        score = result.get("score")
        if score is not None:
            self.score(score, f"{path}.score")

    def score(self, score: Any, path: str) -> None:
        if not isinstance(score, Mapping):
            self.fail(path, "not an object")
            return
        numbers: dict[str, float] = {}
        for key in ("scaled", "raw", "min", "max"):
            value = score.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(f"{path}.{key}", "not a number")
            else:
                numbers[key] = float(value)
        scaled = numbers.get("scaled")
        if scaled is not None and not -1.0 <= scaled <= 1.0:
            self.fail(f"{path}.scaled", f"{scaled} is outside [-1, 1]")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low >= high:
            self.fail(path, f"min {low} must be below max {high}")
        if raw is not None and low is not None and raw < low:
            self.fail(f"{path}.raw", f"{raw} is below min {low}")
        if raw is not None and high is not None and raw > high:
            self.fail(f"{path}.raw", f"{raw} is above max {high}")

    def context(self, context: Any, path: str) -> None:
        if not isinstance(context, Mapping):
            self.fail(path, "not an object")
            return
        if "registration" in context:
            self.uuid(context["registration"], f"{path}.registration")
        if "instructor" in context:
            self.agent(context["instructor"], f"{path}.instructor")
        self.extensions(context.get("extensions"), f"{path}.extensions")
        activities = context.get("contextActivities")
        if activities is None:
            return
        if not isinstance(activities, Mapping):
            self.fail(f"{path}.contextActivities", "not an object")
            return
        for kind, listed in activities.items():
            where = f"{path}.contextActivities.{kind}"
            if kind not in ("parent", "grouping", "category", "other"):
                self.fail(where, "unknown kind")
            items = [listed] if isinstance(listed, Mapping) else listed
            if not isinstance(items, list):
                self.fail(where, "not a list")
                continue
            for index, activity in enumerate(items):
                self.activity(activity, f"{where}[{index}]")
