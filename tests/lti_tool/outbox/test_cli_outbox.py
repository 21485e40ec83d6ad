"""`skillpath worker --once` and `skillpath outbox list|retry`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main
from lti_tool.container import Container, utc_now
from lti_tool.outbox import Delivered, Failed
from tests.lti_tool.outbox.conftest import KIND, ScriptedDeliverer


@pytest.fixture
def run(
    cli_env: dict[str, str],
    services: Container,
    scripted: ScriptedDeliverer,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Result]:
    # The command builds its own container; the scripted receiver is wired into it the way
    # the container wires the real deliverers.
    build = Container.build

    def with_scripted(cls: type[Container], settings: object, clock: object = utc_now) -> Container:
        container = build(settings, clock)  # type: ignore[arg-type]
        container.deliverers.register(KIND, scripted)
        return container

    monkeypatch.setattr(Container, "build", classmethod(with_scripted))
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    return invoke


def test_worker_once_list_and_retry(
    run: Callable[..., Result], services: Container, scripted: ScriptedDeliverer
) -> None:
    now = datetime.now(UTC)
    with services.storage.transaction() as tx:
        for n in range(3):
            tx.outbox.enqueue(KIND, {"n": n}, now=now)
    scripted.script = lambda item: Failed("HTTP 422: user 7 cannot be graded")
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "claimed 3: delivered 0, retrying 0, failed 3" in result.output

    listing = run("outbox", "list", "--status", "failed", "--attempts")
    assert "pending 0, delivered 0, failed 3, superseded 0" in listing.output
    assert "HTTP 422: user 7 cannot be graded" in listing.output
    assert listing.output.count(f"{KIND} failed attempts=1") == 3

    scripted.script = lambda item: Delivered()
    first = listing.output.split("#")[1].split()[0]
    assert "1 failed item(s) queued again" in run("outbox", "retry", first).output
    assert "2 failed item(s) queued again" in run("outbox", "retry", "--all-failed").output
    assert "delivered 3" in run("worker", "--once").output


def test_retry_needs_ids_or_all(run: Callable[..., Result]) -> None:
    result = run("outbox", "retry")
    assert result.exit_code != 0
    assert "give item ids or --all-failed" in result.output
