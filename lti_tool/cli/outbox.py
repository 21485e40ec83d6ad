"""`skillpath worker [--once]` and `skillpath outbox list|retry`: the outbox commands.
Each command parses, calls one use case, prints."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

import click

from lti_tool.cli.support import opened
from lti_tool.container import Container
from lti_tool.outbox import WorkerOptions, run_worker, worker_once
from lti_tool.usecases import outbox as outbox_cases
from lti_tool.usecases.learner_refresh import catch_up
from lti_tool.usecases.model import refit_due
from lti_tool.usecases.outbox import STATUSES

log = logging.getLogger("skillpath.worker")
# How often the worker brings learner states up to date in the background.
CATCH_UP_SECONDS = 30.0


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Deliveries in flight at once.",
)
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--fit-every",
    default=3600,
    show_default=True,
    type=click.IntRange(0, 7 * 86400),
    help="Seconds between checks for tenants whose learner model is due a refit (0: never).",
)
def worker(once: bool, concurrency: int, batch: int, fit_every: int) -> None:
    """Drain the outbox (scores to the LMS, statements to the LRS) and refit tenants' learner
    models when enough new evidence arrived."""
    with opened() as services:
        options = WorkerOptions(
            batch_size=batch,
            concurrency=concurrency,
            lease=timedelta(seconds=services.settings.outbox_lease_seconds),
        )
        if once:
            report = worker_once(services, options)
            total = report
            while report.claimed == batch:
                report = worker_once(services, options)
                total.add(report)
            click.echo(
                f"claimed {total.claimed}: delivered {total.delivered}, "
                f"retrying {total.retrying}, failed {total.failed}"
            )
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if fit_every:
            threading.Thread(
                target=refit_loop, args=(services, stop, fit_every), name="skillpath-refit"
            ).start()
        threading.Thread(
            target=catch_up_loop, args=(services, stop, CATCH_UP_SECONDS), name="skillpath-states"
        ).start()
        click.echo("outbox worker running; stop with Ctrl-C or SIGTERM")
        total = run_worker(services, stop, options)
        click.echo(f"worker stopped: delivered {total.delivered}, failed {total.failed}")


def refit_loop(services: Container, stop: threading.Event, every: int) -> None:
    """Refit due learner models every `every` seconds until `stop`; a failed pass is logged
    and the next one tries again."""
    while not stop.wait(every):
        try:
            for outcome in refit_due(services):
                log.info("refitted %s: %s", outcome.tenant.issuer, outcome.fit.verdict)
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("refitting learner models failed")


def catch_up_loop(services: Container, stop: threading.Event, every: float) -> None:
    """Bring learner states up to date (new evidence, voids, a new model version) every
    `every` seconds until `stop`, so the class view never waits for a learner's launch."""
    while not stop.wait(every):
        try:
            catch_up(services)
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("bringing learner states up to date failed")


@click.group()
def outbox() -> None:
    """What waits to leave Skillpath (scores, statements) and what failed."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--kind", default=None, help="ags_score, xapi_statement, ...")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--attempts", "show_attempts", is_flag=True, help="Show each item's audit log.")
def outbox_list(status: str | None, kind: str | None, limit: int, show_attempts: bool) -> None:
    """Counts per state, then the newest items (newest first)."""
    with opened() as container:
        listing = outbox_cases.listing(
            container, status=status, kind=kind, limit=limit, with_attempts=show_attempts
        )
    summary = listing.counts
    click.echo(
        f"pending {summary.pending}, delivered {summary.delivered}, "
        f"failed {summary.failed}, superseded {summary.superseded}"
    )
    for item in listing.items:
        error = f"  {item.last_error}" if item.last_error else ""
        click.echo(
            f"#{item.id} {item.kind} {item.status} attempts={item.attempts} "
            f"created={item.created_at:%Y-%m-%d %H:%M:%S}{error}"
        )
        for attempt in listing.attempts.get(item.id, []):
            click.echo(
                f"    {attempt.attempted_at:%Y-%m-%d %H:%M:%S} {attempt.outcome} "
                f"HTTP {attempt.response_status or '-'} "
                f"{attempt.response_body[:120]}"
            )


@outbox.command("retry")
@click.argument("item_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed item.")
def outbox_retry(item_ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed items back in the queue (the given ids, or --all-failed)."""
    if not item_ids and not all_failed:
        raise click.UsageError("give item ids or --all-failed")
    with opened() as container:
        number = outbox_cases.retry_failed(container, item_ids)
    click.echo(f"{number} failed item(s) queued again")
