"""The learner model's parameters of a tenant: the one place every page, API call and
background job gets them from.

Today every tenant runs on the engine's priors (`ModelParams.defaults()`); per-tenant fitted
parameters plug in here. A learner state remembers the `params_version` it was built with: a
new version makes the state replay (in the background, or at the learner's next launch).
"""

from __future__ import annotations

import hashlib
import json

from lti_tool.storage import Tenant, Transaction
from recommender import ModelParams


def params_for(tx: Transaction, tenant: Tenant) -> ModelParams:
    """The model parameters the tenant's learners are estimated with."""
    del tx, tenant  # the tenant's fitted parameters will be read here
    return ModelParams.defaults()


def params_version(params: ModelParams) -> str:
    """A short, stable name of a parameter set (a digest of its JSON form)."""
    text = json.dumps(params.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
