"""`skillpath fit`: fit each tenant's learner model to its own evidence, or show the reports."""

from __future__ import annotations

import click

from lti_tool.cli.support import opened
from lti_tool.storage import ModelFitRecord, Tenant
from lti_tool.usecases import model


def _describe(fit: ModelFitRecord) -> str:
    report = fit.report
    who = f"{fit.tenant.issuer} ({fit.tenant.client_id})"
    return (
        f"{who} v{fit.version} {fit.created_at:%Y-%m-%d %H:%M} "
        f"{'in use' if fit.active else 'not used'}: {report.get('observations_used', 0)} "
        f"statements, {float(report.get('seconds', 0.0)):.2f} s; {fit.verdict}"
    )


@click.command()
@click.option("--issuer", default="", help="Only this registration (with --client-id).")
@click.option("--client-id", default="")
@click.option("--report", "show_report", is_flag=True, help="Show the stored fits instead.")
def fit(issuer: str, client_id: str, show_report: bool) -> None:
    """Fit the learner model of every registration (or one) to its own evidence. A fit that
    does worse on held-out learners than the parameters in use is stored but not used."""
    if bool(issuer) != bool(client_id):
        raise click.UsageError("give both --issuer and --client-id, or neither")
    tenant = Tenant(issuer, client_id) if issuer else None
    with opened() as container:
        if show_report:
            fits = (
                model.fit_reports(container, tenant)
                if tenant is not None
                else model.all_reports(container)
            )
            if not fits:
                click.echo("no fits yet: run `skillpath fit`")
            for stored in fits:
                click.echo(_describe(stored))
            return
        outcomes = (
            [model.fit_tenant(container, tenant)]
            if tenant is not None
            else model.fit_all(container)
        )
    if not outcomes:
        click.echo("no registration has a catalog yet: nothing to fit")
    for outcome in outcomes:
        click.echo(_describe(outcome.fit))
