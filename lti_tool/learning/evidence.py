"""What an evidence source hands the learning chain: observations and voided statement ids."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from recommender import Observation


@dataclass(frozen=True)
class EvidenceBatch:
    """What an evidence source found for one learner since the last refresh."""

    observations: Sequence[Observation]
    voided_statement_ids: Sequence[str] = ()


# (issuer, client_id, subject, since, catalog lesson ids) -> batch; raises on failure.
EvidenceSource = Callable[[str, str, str, datetime | None, Collection[str]], EvidenceBatch]
