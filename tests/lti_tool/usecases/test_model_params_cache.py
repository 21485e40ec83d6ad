"""The parameters a launch runs on are read and parsed once per stored fit: a fit never
changes, and its parameters are the largest value a launch would decode besides the view.
A new fit switched on is used at once."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from lti_tool.storage import Tenant
from lti_tool.usecases.model import params_for, params_version
from recommender import CompetencyParams, ModelParams

TENANT = Tenant("https://lms.example.org", "client-1")


def store_fit(app: Flask, params: ModelParams) -> None:
    with app.extensions["skillpath"].storage.transaction() as tx:
        tx.fits.add(
            TENANT,
            catalog_digest="d",
            params=params.to_dict(),
            report={},
            active=True,
            verdict="test",
            evidence_seen=0,
            now=datetime.now(UTC),
        )


def current(app: Flask) -> ModelParams:
    with app.extensions["skillpath"].storage.reading() as tx:
        return params_for(tx, TENANT)


def test_the_priors_until_a_fit_then_the_fit_parsed_once(app: Flask) -> None:
    assert current(app) == ModelParams.defaults()
    fitted = ModelParams.defaults().to_dict()
    fitted["default"] = {**fitted["default"], "prior": 0.42}
    store_fit(app, ModelParams.from_dict(fitted))
    first = current(app)
    assert first.to_dict() == ModelParams.from_dict(fitted).to_dict()
    assert current(app) is first  # parsed once
    refitted = {**fitted, "default": {**fitted["default"], "prior": 0.17}}
    store_fit(app, ModelParams.from_dict(refitted))
    assert current(app).to_dict() == ModelParams.from_dict(refitted).to_dict()


def test_a_parameter_sets_version_is_its_content_worked_out_once_per_object() -> None:
    fitted = ModelParams.defaults().with_competency("c1", CompetencyParams(0.3, 0.2, 0.2, 0.1))
    first = params_version(fitted)
    assert params_version(fitted) == first  # the same object: from the cache
    twin = ModelParams.from_dict(fitted.to_dict())
    assert twin is not fitted and params_version(twin) == first  # the same content
    assert params_version(ModelParams.defaults()) != first
