"""The dependency layer: the open ledger and read side, the clock, the caller (bearer token),
``require(*roles)`` and the command every state change is made with; as ``Annotated`` aliases.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypeVar
from uuid import UUID

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from api.auth import AuthConfig, AuthError, Principal, verify_token
from api.errors import ApiProblem, forbidden, unauthenticated
from keys.signer import Signer
from keys.store import KeyStore
from ledger.actors import Channel, Role
from ledger.application import CaseLedger
from ledger.authority import SERVICE_CENTRE
from ledger.case import Case
from ledger.commands import Command
from ledger.errors import UnknownCase
from projections.database import Database
from projections.document_store import DocumentStore
from projections.models import default_read_models
from projections.runtime import ProjectionRunner, ReadModel
from projections.transparency import TransparencyLog

Clock = Callable[[], datetime]
M = TypeVar("M", bound=ReadModel)

IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,128}$"  # printable ASCII, no spaces (draft-ietf-httpapi)
IF_MATCH = r'^\s*(W/)?"?[0-9]{1,9}"?\s*$'


class LedgerHandle(Protocol):
    """An open ledger with the key store it signs with (``api.context.LedgerContext`` is one)."""

    @property
    def ledger(self) -> CaseLedger:
        """The application service."""
        ...

    @property
    def keys(self) -> KeyStore:
        """The key store (root, log and department keys)."""
        ...

    def close(self) -> None:
        """Release database connections."""
        ...


class ReadSide:
    """The read models, caught up in-process before each read (one caller at a time)."""

    def __init__(
        self,
        ledger: CaseLedger,
        database: Database,
        *,
        log_signer: Signer | None,
        extra: Iterable[ReadModel] = (),
    ) -> None:
        self.database = database
        self.log = TransparencyLog(database, signer=log_signer)
        models = [*default_read_models(ledger.calendar), self.log, *extra]
        self.runner = ProjectionRunner(ledger.recorder, models, database=database)
        self._lock = threading.Lock()

    def refresh(self, now: datetime) -> None:
        """Apply every new event to every model; sign a checkpoint when one is due."""
        with self._lock:
            self.runner.run_once()
            self.log.maybe_checkpoint(now)

    def model(self, kind: type[M]) -> M:
        """Return the read model of class ``kind``."""
        for model in self.runner.models.values():
            if isinstance(model, kind):
                return model
        raise ApiProblem(503, "read-model-missing", "Read model unavailable", kind.__name__)


@dataclass
class Runtime:
    """What requests share: the open ledger, the accepted token issuers, the read side and the
    document store (None where the ledger keeps no SQL database)."""

    handle: LedgerHandle
    auth: AuthConfig
    reads: ReadSide | None
    documents: DocumentStore | None = None

    @property
    def ledger(self) -> CaseLedger:
        """The application service."""
        return self.handle.ledger


class RuntimeHolder:
    """Opens the runtime on first use (never at import or app creation) and closes it once."""

    def __init__(self, opener: Callable[[], Runtime]) -> None:
        self._opener = opener
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def opened(self) -> Runtime | None:
        """Return the runtime if it is open, without waiting for anyone opening it."""
        return self._runtime

    def get(self) -> Runtime:
        """Return the runtime, opening it if needed."""
        with self._lock:
            if self._runtime is None:
                self._runtime = self._opener()
            return self._runtime

    def close(self) -> None:
        """Close the ledger if it was opened."""
        with self._lock:
            if self._runtime is not None:
                self._runtime.handle.close()
                self._runtime = None


# The dependencies every request resolves are coroutines that never block: FastAPI runs a plain
# function dependency in a worker thread, a round trip that cost more than the work itself. And
# every node of a route's dependency tree costs a request more than a dictionary lookup, so the
# runtime, the time and the caller come from the request itself, each worked out once per request
# and kept in its ASGI scope (never in ``request.state``, which a server may seed from state that
# requests share), rather than through further nodes.
_NOW, _PRINCIPAL = "caseledger.now", "caseledger.principal"


async def _runtime(request: Request) -> Runtime:
    holder: RuntimeHolder = request.app.state.runtime
    runtime = holder.opened()
    if runtime is None:
        runtime = await run_in_threadpool(holder.get)
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """The app's runtime (opened in a worker thread, off the event loop, on first use)."""
    return await _runtime(request)


def system_clock() -> datetime:
    """The server's clock, in UTC."""
    return datetime.now(UTC)


def request_time(request: Request) -> datetime:
    """The time of this request in UTC, read once from the app's clock (``create_app(clock=)``)."""
    now: datetime | None = request.scope.get(_NOW)
    if now is None:
        clock: Clock = request.app.state.clock
        now = request.scope[_NOW] = clock().astimezone(UTC)
    return now


async def current_time(request: Request) -> datetime:
    """The time at the edge, in UTC; the same for every use within one request."""
    return request_time(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Now = Annotated[datetime, Depends(current_time)]


async def get_ledger(request: Request) -> CaseLedger:
    """The application service."""
    return (await _runtime(request)).ledger


def get_reads(runtime: RuntimeDep, now: Now) -> ReadSide:
    """The read side, caught up with the log."""
    if runtime.reads is None:
        raise ApiProblem(
            503,
            "read-models-unavailable",
            "Read models unavailable",
            "this ledger's storage keeps no read models (use SQLite or PostgreSQL)",
        )
    runtime.reads.refresh(now)
    return runtime.reads


async def get_documents(request: Request) -> DocumentStore:
    """The document store."""
    documents = (await _runtime(request)).documents
    if documents is None:
        raise ApiProblem(
            503,
            "document-store-unavailable",
            "Document store unavailable",
            "this ledger's storage keeps no documents (use SQLite or PostgreSQL)",
        )
    return documents


LedgerDep = Annotated[CaseLedger, Depends(get_ledger)]
ReadsDep = Annotated[ReadSide, Depends(get_reads)]
DocumentsDep = Annotated[DocumentStore, Depends(get_documents)]

BEARER_SCHEME = "HTTPBearer"  # the OpenAPI security scheme of every authenticating route
_authenticating: set[Callable[..., Any]] = set()


def authenticates(call: Callable[..., Any]) -> bool:
    """Whether the dependency ``call`` reads the caller's bearer token."""
    return call in _authenticating


def _bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("expected an Authorization: Bearer <token> header")
    return token.strip()


async def authenticated(request: Request) -> Principal:
    """The caller named by the request's valid bearer token (401 otherwise), checked once."""
    principal: Principal | None = request.scope.get(_PRINCIPAL)
    if principal is None:
        token = _bearer_token(request.headers.get("authorization"))
        auth = (await _runtime(request)).auth
        try:
            principal = verify_token(token, auth, request_time(request))
        except AuthError as exc:
            raise unauthenticated(str(exc)) from None
        request.scope[_PRINCIPAL] = principal
    return principal


async def get_principal(request: Request) -> Principal:
    """The caller named by a valid bearer token (401 otherwise)."""
    return await authenticated(request)


_authenticating.add(get_principal)
Caller = Annotated[Principal, Depends(get_principal)]


def _authorized(principal: Principal, allowed: frozenset[Role]) -> Principal:
    if principal.role not in allowed:
        raise forbidden(
            f"this route is for {sorted(r.value for r in allowed)}, "
            f"got role {principal.role.value!r}"
        )
    return principal


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency letting only callers in ``roles`` through (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(request: Request) -> Principal:
        return _authorized(await authenticated(request), allowed)

    check.__name__ = f"require_{'_'.join(sorted(r.value for r in allowed))}"
    _authenticating.add(check)
    return check


def allow(*roles: Role) -> Any:
    """Route-level ``dependencies=[allow(...)]`` form of ``require``."""
    return Depends(require(*roles))


async def capped_body(request: Request, limit: int, slug: str, what: str) -> bytes:
    """The request body, refused (413 ``slug``) as soon as it outgrows ``limit`` bytes."""
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            detail = f"{what} may hold at most {limit} bytes"
            raise ApiProblem(413, slug, "Payload too large", detail)
    return bytes(received)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="Repeat a request safely: the same key and body give the same response",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=IF_MATCH,
        description='The case version the change is based on, e.g. "7" (409 if it moved on)',
    ),
]


def _channel(role: Role, officer_channel: Channel) -> Channel:
    if role is Role.APPLICANT:
        return Channel.ONLINE
    if role is Role.COURIER:
        return Channel.COURIER
    return officer_channel


def command(
    officer_channel: Channel = Channel.SYSTEM, roles: Iterable[Role] | None = None
) -> Callable[..., Awaitable[Command]]:
    """A dependency building the command of a state change from the caller and the headers;
    with ``roles``, it lets only callers in them through, as ``require`` does."""
    allowed = None if roles is None else frozenset(roles)

    async def build(
        request: Request, key: IdempotencyKey = None, if_match: IfMatch = None
    ) -> Command:
        caller = await authenticated(request)
        if allowed is not None:
            _authorized(caller, allowed)
        expected = None
        if if_match is not None:
            expected = int(if_match.strip().removeprefix("W/").strip('"'))
        return Command(
            at=request_time(request),
            actor=caller.actor(),
            channel=_channel(caller.role, officer_channel),
            expected_version=expected,
            command_id=key,
        )

    _authenticating.add(build)
    return build


DeskCommand = Annotated[Command, Depends(command(Channel.SYSTEM))]
WindowCommand = Annotated[Command, Depends(command(Channel.WINDOW))]
AdminCommand = Annotated[Command, Depends(command(Channel.SYSTEM, roles=(Role.ADMIN,)))]
# Verification is the busiest route: its one dependency authorizes and builds the command.
VerifierCommand = Annotated[
    Command, Depends(command(Channel.SYSTEM, roles=(Role.VERIFIER, Role.OFFICER)))
]


def visible_case(ledger: CaseLedger, case_id: UUID, principal: Principal) -> Case:
    """Return the case if the caller may see it, else 404 (never confirming it exists)."""
    case = ledger.case(case_id)  # UnknownCase if there is none
    holder, _ = case.applicant
    if principal.role is Role.AUDITOR:
        return case
    if principal.role is Role.APPLICANT and principal.sub == holder:
        return case
    departments = {SERVICE_CENTRE, *case.terms.required_departments}
    if principal.role is Role.OFFICER and principal.department in departments:
        return case
    # The same answer as for a case that does not exist.
    raise UnknownCase(f"no case with id {case_id}")


def own_case(ledger: CaseLedger, case_id: UUID, principal: Principal) -> Case | None:
    """For an applicant, return their case or 404; for staff, None (the ledger checks them)."""
    if principal.role is not Role.APPLICANT:
        return None
    return visible_case(ledger, case_id, principal)
