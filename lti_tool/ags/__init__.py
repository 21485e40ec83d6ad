"""LTI Assignment and Grade Services: line items, scores and results, through the outbox."""

from lti_tool.ags.claims import AgsEndpoint, ags_endpoint
from lti_tool.ags.client import AgsCallFailed, AgsClient, LineItemSpec
from lti_tool.ags.connect import ServiceClients
from lti_tool.ags.progress import (
    GradeSync,
    InvalidScore,
    ProgressRecorded,
    enqueue_progress,
    grade_sync_for,
    record_progress,
)
from lti_tool.ags.results import read_results
from lti_tool.ags.tokens import SharedTokenConnector, token_stats

__all__ = [
    "AgsCallFailed",
    "AgsClient",
    "AgsEndpoint",
    "GradeSync",
    "InvalidScore",
    "LineItemSpec",
    "ProgressRecorded",
    "ServiceClients",
    "SharedTokenConnector",
    "ags_endpoint",
    "enqueue_progress",
    "grade_sync_for",
    "read_results",
    "record_progress",
    "token_stats",
]
