"""The database: one engine, transactions that hand out repositories, schema migrations.

`Storage` is built once per process (by the container). Everything that reads or writes
Skillpath's tables does so inside `with storage.transaction() as tx:`, through `tx.learners`,
`tx.launches`, ... (`lti_tool.storage.transaction`): the block commits when it ends cleanly and
rolls back otherwise.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from lti_tool import jsonio
from lti_tool.errors import StorageUnavailable
from lti_tool.storage.catalogs import ParsedCatalogs
from lti_tool.storage.settings_cache import SettingsCache
from lti_tool.storage.transaction import Transaction

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("skillpath.storage")

T = TypeVar("T")


def is_connection_trouble(exc: BaseException) -> bool:
    """A failure of the connection (server gone, connection dropped, SQLite busy), not of
    the statement: idempotent work may simply run again."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; NORMAL sync is durable across process
    # crashes (the embedded deployment's risk) without an fsync per commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# The JSON columns (stored views and states, tens of KB) written and read by orjson.
_JSON = {"json_serializer": jsonio.dumps_text, "json_deserializer": jsonio.loads}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool, **_JSON
            )
        else:
            engine = create_engine(url, connect_args={"check_same_thread": False}, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, **_JSON)
    _check_before_use(engine)
    return engine


# A pooled connection used this recently, whose socket has nothing to say, is taken as it is;
# any other is pinged first (what `pool_pre_ping` does on every checkout, a round trip each).
PING_AFTER_IDLE_SECONDS = 10.0


def _check_before_use(engine: Engine) -> None:
    """Connections that died are replaced before use, as with `pool_pre_ping`, but only
    those that may have died are pinged: one idle for a while, or one whose socket became
    readable while it sat in the pool (the server closed it, or said why it would). A
    connection that fails its ping is replaced: the pool retries the checkout with a new one
    (`DisconnectionError`, SQLAlchemy's documented way for a checkout listener)."""

    def stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if (
            idle_since is not None
            and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS
            and not _readable(dbapi_connection)
        ):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc

    event.listen(engine, "connect", stamp)
    event.listen(engine, "checkin", stamp)
    event.listen(engine, "checkout", check)


class _ReadScope:
    """One autocommit connection, opened when first asked for."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect
        self._connection: Connection | None = None

    def connection(self) -> Connection:
        if self._connection is None or self._connection.invalidated:
            if self._connection is not None:
                self._connection.close()
            self._connection = self._connect()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _readable(dbapi_connection: Any) -> bool:
    """Whether the server sent something to an idle connection (its close, or a notice that
    it is about to): then the connection is pinged before use."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True


def _alembic_config(connection: Any) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Storage:
    """One engine, its session factory, and this process's parsed catalogs and tenant
    settings (`settings_cache`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.catalogs = ParsedCatalogs()
        self.settings = SettingsCache()
        self._scope: ContextVar[_ReadScope | None] = ContextVar("skillpath_reads", default=None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        """The database URL as it may be shown: the password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Connection failures become one `StorageUnavailable` naming the database."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
            raise StorageUnavailable(
                f"cannot reach the database at {self.safe_url}: {reason}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Repositories on one session that commits when the block ends cleanly."""
        with self._sessions() as session:
            try:
                yield Transaction(session, self.catalogs, self.settings)
                session.commit()
                SettingsCache.committed(session)
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """Repositories for reads only, on a connection in autocommit mode: no BEGIN and no
        COMMIT round trip (a launch looks its registration up several times). Within a
        `read_scope` (one web request) every `reading()` uses the scope's one connection.
        Writes here would commit one statement at a time: use `transaction()` for them."""
        scope = self._scope.get()
        if scope is not None:
            with Session(bind=scope.connection()) as session:
                yield Transaction(session, self.catalogs, self.settings)
            return
        with self._autocommit() as connection:
            with Session(bind=connection) as session:
                yield Transaction(session, self.catalogs, self.settings)

    def _autocommit(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read_scope(self) -> Iterator[None]:
        """The `reading()` blocks inside share one connection, taken from the pool at the
        first of them and given back when the scope ends (the web opens one per request:
        a launch or a page reads in three or four places, each a pool checkout before)."""
        if isinstance(self.engine.pool, StaticPool):  # one shared in-memory connection
            yield
            return
        scope = _ReadScope(self._autocommit)
        token = self._scope.set(scope)
        try:
            yield
        finally:
            self._scope.reset(token)
            scope.close()

    def retrying(
        self,
        work: Callable[[Transaction], T],
        *,
        within_seconds: float = 5.0,
        first_wait: float = 0.1,
        max_wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Run `work` in a transaction; when the connection fails (database restarted,
        connection dropped), roll back and run it again, for up to `within_seconds`. Only for
        work that may run twice: the transaction either committed whole or not at all, and a
        commit whose answer was lost must be harmless to repeat."""
        deadline = time.monotonic() + within_seconds
        wait = first_wait
        while True:
            try:
                with self.transaction() as tx:
                    return work(tx)
            except Exception as exc:
                if not is_connection_trouble(exc) or time.monotonic() + wait > deadline:
                    raise
                log.warning(
                    "database connection failed (%s); trying again in %.1f s",
                    type(exc).__name__,
                    wait,
                )
                sleep(wait)
                wait = min(wait * 2, max_wait)

    @staticmethod
    def unavailable(exc: BaseException) -> bool:
        """Whether `exc` says the database could not be reached (not that a statement was
        wrong): the web answers 503 and the page says to try again shortly."""
        return is_connection_trouble(exc)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        with self._reachable(), self.engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")

    def migrate(self, action: str, target: str) -> None:
        """Run `upgrade` or `downgrade` to `target` (tests take every migration down and up)."""
        with self.engine.begin() as connection:
            getattr(command, action)(_alembic_config(connection), target)

    def is_current(self) -> bool:
        """True when the schema exists (migrations have run at least once)."""
        with self._reachable():
            return inspect(self.engine).has_table("alembic_version")

    def at_head(self) -> bool:
        """True when the schema is at the newest migration (readiness)."""
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        heads = ScriptDirectory.from_config(_alembic_config(None)).get_heads()
        return set(current) == set(heads)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
