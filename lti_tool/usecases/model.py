"""The learner model each tenant runs on: the priors until there is enough of the
organisation's own evidence, then parameters fitted from it.

A fit (`skillpath fit`, and the worker when enough new evidence arrived or a day passed) reads
every statement of the tenant that still counts, holds a share of the learners out, fits on
the others (`recommender.fit_params`, which keeps the priors for competencies with too little
evidence and says so) and compares the fitted parameters with the ones in use on the held-out
learners. Every fit is stored, versioned, with its report; only a fit that predicts the
held-out learners about as well as the parameters in use or better (within `AUC_MARGIN` and
`CALIBRATION_MARGIN`) is switched on. The pages, the API and background jobs read the
tenant's parameters through `params_for`, the one place they come from; a learner state
remembers the `params_version` it was built with, and a new version makes it replay (in the
background, or at the learner's next launch).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from lti_tool.errors import NoCatalog
from lti_tool.storage import ModelFitRecord, Tenant, Transaction
from lti_tool.usecases.catalogs import digest_of
from lti_tool.usecases.ports import Ports
from recommender import FitReport, ModelParams, fit_params

# The share of learners held out to check a fit against the parameters in use.
HOLDOUT_SHARE = 0.2
# A tenant is refitted after this many new statements, or after a day with any new one.
REFIT_AFTER_EVIDENCE = 200
REFIT_AFTER = timedelta(days=1)
# A fit is worse than the parameters in use when, on the held-out learners, it ranks results
# worse (AUC lower) or is further from the observed pass rates (calibration gap larger) by
# more than these margins; smaller differences are noise on a few held-out learners.
AUC_MARGIN = 0.02
CALIBRATION_MARGIN = 0.02


def params_for(tx: Transaction, tenant: Tenant) -> ModelParams:
    """The parameters the tenant's pages use: its active fit, else the priors. A stored fit
    never changes, so its parameters are read and parsed once per process."""
    key = tx.fits.current_key(tenant)
    if key is None:
        return _PRIORS
    params = _PARSED.get(key)
    if params is None:
        params = ModelParams.from_dict(tx.fits.params_of(key[0]))
        with _PARSED_LOCK:
            if len(_PARSED) >= 256:
                _PARSED.clear()
            _PARSED[key] = params
    return params


# The priors, one object (its version is worked out once, see `params_version`).
_PRIORS = ModelParams.defaults()
# Parsed parameters by (fit id, created at): a few per tenant over the life of a process.
_PARSED: dict[tuple[int, datetime], ModelParams] = {}
_PARSED_LOCK = threading.Lock()


def params_version(params: ModelParams) -> str:
    """A short, stable name of a parameter set (a digest of its JSON form). Every launch asks
    it of the same few parameter objects (`params_for` hands out one per fit and process), so
    it is worked out once per object: a fitted set's JSON form is tens of KB."""
    found = _VERSIONS.get(id(params))
    if found is not None and found[0] is params:
        return found[1]
    text = json.dumps(params.to_dict(), sort_keys=True, separators=(",", ":"))
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    with _PARSED_LOCK:
        if len(_VERSIONS) >= 256:
            _VERSIONS.clear()
        _VERSIONS[id(params)] = (params, version)  # holding it keeps its id from being reused
    return version


_VERSIONS: dict[int, tuple[ModelParams, str]] = {}


@dataclass(frozen=True)
class FitOutcome:
    tenant: Tenant
    fit: ModelFitRecord


def _verdict(report: FitReport) -> tuple[bool, str]:
    """Whether to switch the fit on, and why, in words for an admin."""
    at_priors = len(report.at_priors)
    priors = (
        f"; {at_priors} competencies had fewer than {report.min_observations} scored "
        "observations and keep the priors"
        if at_priors
        else ""
    )
    if report.observations_used == 0:
        return False, "no evidence yet: the priors stay"
    held = report.heldout
    if held is None or held.observations == 0:
        return False, (
            f"fitted on {report.observations_used} statements, but too few learners to check "
            f"it on held-out learners: not switched on{priors}"
        )
    figures = (
        f"held-out AUC {held.auc:.3f} against {held.base_auc:.3f} in use, calibration gap "
        f"{held.calibration:.3f} against {held.base_calibration:.3f}, {held.learners} learners"
    )
    if (
        held.auc < held.base_auc - AUC_MARGIN
        or held.calibration > held.base_calibration + CALIBRATION_MARGIN
    ):
        return False, f"worse than the parameters in use ({figures}): kept as a report{priors}"
    return True, f"switched on ({figures}){priors}"


def fit_tenant(ports: Ports, tenant: Tenant) -> FitOutcome:
    """Fit the tenant's model from its stored evidence and store the fit (switched on only
    when it does at least as well as the parameters in use on held-out learners)."""
    with ports.storage.transaction() as tx:
        catalog = tx.catalogs.for_tenant(tenant)
        if catalog is None:
            raise NoCatalog(
                f"{tenant.issuer or 'the default tenant'} has no catalog to fit a model for."
            )
        document = tx.catalogs.document(tenant) or tx.catalogs.document(Tenant.DEFAULT)
        in_use = params_for(tx, tenant)
        history = [o for o in tx.evidence.for_tenant(tenant) if o.lesson_id in catalog.lessons]
        seen = tx.evidence.count(tenant)
    params, report = fit_params(history, catalog, in_use, holdout=HOLDOUT_SHARE)
    active, verdict = _verdict(report)
    with ports.storage.transaction() as tx:
        fit = tx.fits.add(
            tenant,
            catalog_digest=digest_of(document) if document is not None else "",
            params=params.to_dict(),
            report=report.to_dict(),
            active=active,
            verdict=verdict,
            evidence_seen=seen,
            now=ports.now(),
        )
        if active:
            # Learner states were estimated with the parameters before: the background
            # catch-up (or each learner's next launch) replays them with these.
            tx.learner_pages.flag_tenant_replay(tenant)
    return FitOutcome(tenant, fit)


def fit_all(ports: Ports) -> list[FitOutcome]:
    """Fit every registered tenant that has a catalog."""
    with ports.storage.transaction() as tx:
        tenants = sorted(tx.registrations.tenants(), key=lambda t: (t.issuer, t.client_id))
        with_catalog = [t for t in tenants if tx.catalogs.for_tenant(t) is not None]
    return [fit_tenant(ports, tenant) for tenant in with_catalog]


def refit_due(ports: Ports, now: datetime | None = None) -> list[FitOutcome]:
    """Fit the tenants whose evidence grew enough since their last fit (the worker's
    schedule): REFIT_AFTER_EVIDENCE new statements, or any after REFIT_AFTER."""
    now = now or ports.now()
    due: list[Tenant] = []
    with ports.storage.transaction() as tx:
        for tenant in sorted(tx.registrations.tenants(), key=lambda t: (t.issuer, t.client_id)):
            if tx.catalogs.for_tenant(tenant) is None:
                continue
            count = tx.evidence.count(tenant)
            last = tx.fits.latest(tenant)
            new = count - (last.evidence_seen if last is not None else 0)
            old = last is None or now - last.created_at >= REFIT_AFTER
            if new >= REFIT_AFTER_EVIDENCE or (new > 0 and old):
                due.append(tenant)
    return [fit_tenant(ports, tenant) for tenant in due]


def fit_reports(ports: Ports, tenant: Tenant, limit: int = 20) -> list[ModelFitRecord]:
    """The tenant's fits, newest first, with their reports."""
    with ports.storage.transaction() as tx:
        return tx.fits.history(tenant, limit)


def all_reports(ports: Ports, limit: int = 20) -> list[ModelFitRecord]:
    """Every registration's fits, newest first per registration."""
    with ports.storage.transaction() as tx:
        tenants = sorted(tx.registrations.tenants(), key=lambda t: (t.issuer, t.client_id))
        return [fit for tenant in tenants for fit in tx.fits.history(tenant, limit)]
