"""The one place that wires onethread: settings -> engine, sessions, clock, event bus, consumers.

Used by the app, the CLI and the worker; tests build it with a settable clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from onethread.access import passwords, signin
from onethread.cases import service as cases
from onethread.cases import triage
from onethread.config import Settings
from onethread.db import migrate
from onethread.db.engine import make_engine, reads_engine
from onethread.db.gate import WriteGate
from onethread.db.outbox import Subscription
from onethread.db.session import make_sessionmaker, session_scope
from onethread.integrations import fanout
from onethread.interactions import timeline
from onethread.interactions.events import ContactDismissed, ContactRecorded
from onethread.inventory.events import ProductTerminated
from onethread.kernel.clock import Clock, SystemClock
from onethread.kernel.events import Event, EventBus, Handler
from onethread.outreach import triggers
from onethread.sandbox.clock import DatabaseClock, ensure_row
from onethread.search import index as search_index


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    subscriptions: list[Subscription] = field(default_factory=list)
    # Credentials (token expiry) live in real time even when business time is simulated:
    # moving a sandbox's manual clock by eight weeks must not expire the trainer's token.
    security_clock: Clock | None = None
    # Sessions for requests that only read (GET): no write but the read's own trail, written
    # after the read (db.engine.reads_engine, db.session.record_trail). The same pool as ``sessions``.
    read_sessions: sessionmaker[Session] | None = None
    # SQLite only: one request at a time changes data in this process (db.gate); None on PostgreSQL.
    write_gate: WriteGate | None = None
    _secret_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.security_clock is None:
            self.security_clock = SystemClock() if self.settings.clock == "manual" else self.clock
        if self.read_sessions is None:
            self.read_sessions = make_sessionmaker(reads_engine(self.engine), self.bus, self.settings, reads=True)
        if self.write_gate is None and self.engine.dialect.name == "sqlite":
            self.write_gate = WriteGate()

    @property
    def secret_key(self) -> str:
        """The key that signs session cookies: ``ONETHREAD_SECRET_KEY``, else the one generated on
        first run and kept in the database (read once per process)."""
        if self._secret_key is None:
            if self.settings.secret_key:
                self._secret_key = self.settings.secret_key
            else:
                with session_scope(self.sessions) as session:
                    self._secret_key = signin.instance_secret(session, self.security_clock)
        return self._secret_key

    def dispose(self) -> None:
        self.engine.dispose()


# In-process event handlers, event class -> handlers in the order they run (in the change's
# transaction). ``Event`` means every event; its handlers run after the type's own.
HANDLERS: dict[type[Event], tuple[Handler, ...]] = {
    ContactRecorded: (
        cases.thread_reply,  # a customer's answer by e-mail joins its case
        triage.on_recorded,  # after threading: a case it belongs to, else a queue
    ),
    ContactDismissed: (triage.on_dismissed,),  # a match-queue item dismissed ends its triage item
    ProductTerminated: (triggers.retention_on_termination,),  # guarded (outreach)
    Event: (
        timeline.project,
        search_index.on_event,  # last: a contact's case (threading, triage) is known by then
    ),
}


def register_handlers(bus: EventBus) -> None:
    """Subscribe the ``HANDLERS`` map: the one list of in-process handlers."""
    for event, handlers in HANDLERS.items():
        for handler in handlers:
            bus.subscribe(event, handler)


def register_consumers(container: Container) -> list[Subscription]:
    """Asynchronous outbox consumers the worker delivers to: the fan-out of TMF hub events and
    webhooks (``integrations``), which the worker then sends."""
    clock = container.clock

    def fan_out(session, event) -> None:
        fanout.fanout(session, clock, event)

    return [Subscription(fanout.CONSUMER, fanout.EVENT_TYPES, fan_out, active=fanout.any_subscription)]


def build(settings: Settings, *, clock: Clock | None = None, check_schema: bool = True) -> Container:
    problems = settings.production_problems()
    if problems:
        raise SystemExit("Refusing to start in production mode:\n- " + "\n- ".join(problems))
    passwords.configure(settings.env)
    engine = make_engine(settings.database_url, echo=settings.sql_echo, pool_timeout=settings.db_wait_seconds)
    if check_schema:
        migrate.check_ready(engine)
    if clock is None and settings.clock == "manual":
        if check_schema:
            ensure_row(engine)
        clock = DatabaseClock(engine)
    bus = EventBus()
    register_handlers(bus)
    container = Container(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine, bus, settings),
        clock=clock or SystemClock(),
        bus=bus,
    )
    container.subscriptions = register_consumers(container)
    return container
