"""One transaction and the repositories that work inside it.

A use case receives a `Transaction` and reaches the tables only through its repositories;
each tenant- or course-scoped method takes a `Tenant` or `Course` value.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.orm import Session

from lti_tool.storage.admin import AdminAccountRepository, AuditRepository
from lti_tool.storage.catalogs import CatalogRepository, ParsedCatalogs
from lti_tool.storage.fits import ModelFitRepository
from lti_tool.storage.keys import ToolKeyRepository
from lti_tool.storage.launches import LaunchRepository
from lti_tool.storage.learners import EvidenceRepository, LearnerRepository
from lti_tool.storage.lrs import LrsRepository
from lti_tool.storage.outbox import OutboxRepository
from lti_tool.storage.pages import GroupRepository, LearnerPageRepository, RecognitionRepository
from lti_tool.storage.registrations import RegistrationRepository
from lti_tool.storage.settings_cache import SettingsCache


class Transaction:
    """The repositories of one database transaction (built lazily, one each)."""

    def __init__(self, session: Session, catalogs: ParsedCatalogs, settings: SettingsCache) -> None:
        self._session = session
        self._parsed = catalogs
        self._settings = settings

    @cached_property
    def registrations(self) -> RegistrationRepository:
        return RegistrationRepository(self._session, self._settings)

    @cached_property
    def tool_keys(self) -> ToolKeyRepository:
        return ToolKeyRepository(self._session)

    @cached_property
    def launches(self) -> LaunchRepository:
        return LaunchRepository(self._session)

    @cached_property
    def catalogs(self) -> CatalogRepository:
        return CatalogRepository(self._session, self._parsed, self._settings)

    @cached_property
    def lrs(self) -> LrsRepository:
        return LrsRepository(self._session, self._settings)

    @cached_property
    def learners(self) -> LearnerRepository:
        return LearnerRepository(self._session)

    @cached_property
    def evidence(self) -> EvidenceRepository:
        return EvidenceRepository(self._session)

    @cached_property
    def fits(self) -> ModelFitRepository:
        return ModelFitRepository(self._session, self._settings)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self._session)

    @cached_property
    def learner_pages(self) -> LearnerPageRepository:
        return LearnerPageRepository(self._session)

    @cached_property
    def recognitions(self) -> RecognitionRepository:
        return RecognitionRepository(self._session)

    @cached_property
    def groups(self) -> GroupRepository:
        return GroupRepository(self._session)

    @cached_property
    def admins(self) -> AdminAccountRepository:
        return AdminAccountRepository(self._session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self._session)

    def flush(self) -> None:
        """Send pending writes now (ids become known; constraint errors surface here)."""
        self._session.flush()
