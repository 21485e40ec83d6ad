"""Skillpath's storage: the database and its migrations, the repositories, the shared store
(OIDC state, nonces, caches) and encryption of secrets at rest.

The only package that imports SQLAlchemy. The rest of the app opens
`with storage.transaction() as tx:` and reads and writes through `tx.<repository>`, which take
and return the plain records of `lti_tool.storage.records`.
"""

from lti_tool.storage.database import Storage
from lti_tool.storage.models import (
    REGISTRATION_ACTIVE,
    REGISTRATION_DISABLED,
    REGISTRATION_PENDING,
    REGISTRATION_STATUSES,
)
from lti_tool.storage.records import (
    AdminAccountRecord,
    AttemptRecord,
    AuditRecord,
    ClassMember,
    Course,
    EvidenceRecord,
    ItemToDeliver,
    LaunchRecord,
    LearnerPageRecord,
    LearnerRecord,
    LrsConnectionRecord,
    ModelFitRecord,
    OutboxEntry,
    RecognitionRecord,
    RegistrationRecord,
    StoredView,
    Tenant,
    ToolKeyRecord,
)
from lti_tool.storage.secrets import SecretBox
from lti_tool.storage.shared_store import RedisStore, SharedStore, SqlStore, make_store
from lti_tool.storage.transaction import Transaction

__all__ = [
    "REGISTRATION_ACTIVE",
    "REGISTRATION_DISABLED",
    "REGISTRATION_PENDING",
    "REGISTRATION_STATUSES",
    "AdminAccountRecord",
    "AttemptRecord",
    "AuditRecord",
    "ClassMember",
    "Course",
    "EvidenceRecord",
    "ItemToDeliver",
    "LaunchRecord",
    "LearnerPageRecord",
    "LearnerRecord",
    "LrsConnectionRecord",
    "ModelFitRecord",
    "OutboxEntry",
    "RedisStore",
    "RecognitionRecord",
    "RegistrationRecord",
    "SecretBox",
    "SharedStore",
    "SqlStore",
    "Storage",
    "StoredView",
    "Tenant",
    "ToolKeyRecord",
    "Transaction",
    "make_store",
]
