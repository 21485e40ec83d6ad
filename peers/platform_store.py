"""What the platform peer keeps in memory: the gradebook (line items, every score post) and
the rosters. Safe across server threads. It must not import Skillpath."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from peers.platform_protocol import LaunchRequest, expand_roles


@dataclass(frozen=True)
class ScorePost:
    """One score a tool posted, as the platform received it, in arrival order."""

    line_item_id: str
    user_id: str
    score: dict[str, Any]
    client_id: str | None
    received_at: float
    accepted: bool


class Gradebook:
    """Line items and every posted score, kept in memory; safe across server threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._line_items: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}  # line item id -> context id
        self._posts: list[ScorePost] = []
        # (line item, user) -> their posts: a platform looks a user's score up by key, and so
        # must this one, or each post would cost a scan of every post before it.
        self._by_key: dict[tuple[str, str], list[ScorePost]] = {}
        self._next_id = 1
        # Users the platform refuses to grade (Moodle's non-gradable users): 422 on a score.
        self.ungradable_users: set[str] = set()

    def clear(self) -> None:
        with self._lock:
            self._line_items.clear()
            self._owners.clear()
            self._posts.clear()
            self._by_key.clear()
            self.ungradable_users.clear()

    # reading, for tests
    def line_items(self, context_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(item)
                for item_id, item in self._line_items.items()
                if context_id is None or self._owners[item_id] == context_id
            ]

    def line_item(self, line_item_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._line_items.get(line_item_id)
            return dict(item) if item is not None else None

    def find_line_items(self, **match: Any) -> list[dict[str, Any]]:
        """Line items whose fields equal all of `match` (e.g. tag=..., resourceLinkId=...)."""
        return [i for i in self.line_items() if all(i.get(k) == v for k, v in match.items())]

    def posts(self, line_item_id: str | None = None, user_id: str | None = None) -> list[ScorePost]:
        """Every score post received (accepted or not), oldest first."""
        with self._lock:
            if line_item_id is not None and user_id is not None:
                return list(self._by_key.get((line_item_id, user_id), ()))
            return [
                p
                for p in self._posts
                if (line_item_id is None or p.line_item_id == line_item_id)
                and (user_id is None or p.user_id == user_id)
            ]

    def scores(self, line_item_id: str, user_id: str) -> list[dict[str, Any]]:
        """Every accepted score for (line item, user), in the order received."""
        return [p.score for p in self.posts(line_item_id, user_id) if p.accepted]

    def latest_score(self, line_item_id: str, user_id: str) -> dict[str, Any] | None:
        scores = self.scores(line_item_id, user_id)
        return scores[-1] if scores else None

    def results(self, line_item_id: str) -> list[dict[str, Any]]:
        """AGS result objects: the latest accepted score of each user of the line item."""
        latest: dict[str, dict[str, Any]] = {}
        for post in self.posts(line_item_id):
            if post.accepted:
                latest[post.user_id] = post.score
        out = []
        for user_id, score in latest.items():
            result: dict[str, Any] = {
                "id": f"{line_item_id}/results/{user_id}",
                "scoreOf": line_item_id,
                "userId": user_id,
            }
            if "scoreGiven" in score:
                result["resultScore"] = score["scoreGiven"]
                result["resultMaximum"] = score.get("scoreMaximum")
            if "comment" in score:
                result["comment"] = score["comment"]
            out.append(result)
        return out

    # writing, for the AGS service
    def create_line_item(
        self, context_id: str, lineitems_url: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            item_id = f"{lineitems_url}/{self._next_id}"
            self._next_id += 1
            item = {k: v for k, v in data.items() if k != "id"}
            item["id"] = item_id
            self._line_items[item_id] = item
            self._owners[item_id] = context_id
            return dict(item)

    def update_line_item(self, line_item_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            if line_item_id not in self._line_items:
                return None
            item = {k: v for k, v in data.items() if k != "id"}
            item["id"] = line_item_id
            self._line_items[line_item_id] = item
            return dict(item)

    def delete_line_item(self, line_item_id: str) -> bool:
        with self._lock:
            self._owners.pop(line_item_id, None)
            return self._line_items.pop(line_item_id, None) is not None

    def record_score(self, post: ScorePost) -> None:
        with self._lock:
            self._posts.append(post)
            self._by_key.setdefault((post.line_item_id, post.user_id), []).append(post)

    def owner_of(self, line_item_id: str) -> str | None:
        with self._lock:
            return self._owners.get(line_item_id)


class Roster:
    """Members per context, as NRPS reports them; launches enrol the launching user."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self._titles: dict[str, tuple[str, str]] = {}
        self._links: dict[str, set[str]] = {}

    def clear(self) -> None:
        with self._lock:
            self._members.clear()
            self._titles.clear()
            self._links.clear()

    def set_members(self, context_id: str, members: Iterable[Mapping[str, Any]]) -> None:
        """Replace a context's members: dicts with `user_id`, `roles` (shorthands allowed),
        and optionally `name`, `given_name`, `family_name`, `email`, `status`."""
        with self._lock:
            self._members[context_id] = {}
            for member in members:
                self.add(context_id, **member)

    def add(
        self, context_id: str, user_id: str, roles: str | Iterable[str] = "learner", **attrs: Any
    ) -> None:
        member = {"user_id": user_id, "roles": expand_roles(roles), "status": "Active"}
        member.update({k: v for k, v in attrs.items() if v is not None})
        with self._lock:
            self._members.setdefault(context_id, {})[user_id] = member

    def members(self, context_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._members.get(context_id, {}).values()]

    def set_context(self, context_id: str, title: str = "", label: str = "") -> None:
        with self._lock:
            self._titles[context_id] = (title, label)

    def context(self, context_id: str) -> tuple[str, str]:
        with self._lock:
            return self._titles.get(context_id, ("", ""))

    def add_link(self, context_id: str, resource_link_id: str) -> None:
        with self._lock:
            self._links.setdefault(context_id, set()).add(resource_link_id)

    def has_link(self, context_id: str, resource_link_id: str) -> bool:
        with self._lock:
            return resource_link_id in self._links.get(context_id, set())

    def enrol_launch(self, launch: LaunchRequest) -> None:
        if launch.context_id is None:
            return
        with self._lock:
            if launch.context_title and launch.context_id not in self._titles:
                self._titles[launch.context_id] = (launch.context_title, launch.context_label or "")
            self.add_link(launch.context_id, launch.resource_link_id)
            if launch.user_id not in self._members.get(launch.context_id, {}):
                self.add(
                    launch.context_id,
                    launch.user_id,
                    list(launch.roles),
                    name=launch.name,
                    given_name=launch.given_name,
                    family_name=launch.family_name,
                    email=launch.email,
                )
