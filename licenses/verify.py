"""The offline verifier: QR text or COSE bytes in, a result naming the failed step out; it needs
only a trust list (and a signed status list for revocations), and bad input never raises.
"""

# Steps: 1 prefix, 2 Base45, 3 zlib, 4 strict CBOR, 5 COSE structure (RFC 9052 §4.2) and claims,
# 6 kid -> trust list, 7 algorithm allowed, 8 signature (RFC 9052 §4.4) and disclosures, 9 key
# validity at iat, 10 key allowed for the license type, 11 time (nbf/exp), 12 status list, 13 rules.
# Every failure of the input is a result; only configuration errors raise (an empty policy set, a
# trust list argument that is not a TrustList). A credential that passes steps 4-8 passes them in
# one pass (licenses.wellformed); any other takes them one by one, to name the step that fails.

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import datetime, timedelta
from typing import TypeAlias

from keys.algorithms import PublicKey, load_public_key
from keys.cbor import loads_strict
from keys.cose import KID, Sign1Message
from keys.errors import KeyManagementError
from keys.registry import KeyEntry
from keys.trustlist import TrustList, load_trust_list
from licenses.credential import ParsedCredential, decode_message, parse_message
from licenses.errors import InvalidCredential, LicenseError, StatusListError
from licenses.model import LicenseClaims, SlotStatus
from licenses.policies import DEFAULT_POLICIES, Policy, PolicyContext, PolicySet
from licenses.qr import MAX_COSE_BYTES, b45decode, inflate, strip_prefix
from licenses.status import StatusList, load_status_list
from licenses.verification import STEP_NAMES as STEP_NAMES
from licenses.verification import VerificationResult as VerificationResult
from licenses.verification import VerificationStatus as VerificationStatus
from licenses.wellformed import ForgedSignature, verify_well_formed

_STATUS_CACHE_SIZE = 8
# How old a status list may be for its "good" to stand: a verifier offline for longer must fetch
# a newer one, or a revocation made since would go unseen.
STATUS_MAX_AGE = timedelta(days=7)
# A status list with the trust list's entry for its signer, or why either did not load.
_LoadedStatusList: TypeAlias = tuple[StatusList, KeyEntry] | StatusListError | KeyManagementError
_PASSED = "every step passed"
_PASSED_UNCHECKED = _PASSED + " (no status list checked)"


class _Failed(Exception):
    # Internal control flow only: carries a failure from a step to the result.
    def __init__(self, status: VerificationStatus, step: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.step = step
        self.reason = reason


def _fail(status: VerificationStatus, step: int, reason: object) -> _Failed:
    return _Failed(status, step, str(reason))


class Verifier:
    """Verifies credentials against one trust list with one policy set, caching parsed keys."""

    def __init__(
        self,
        trust_list: TrustList,
        *,
        policies: PolicySet | Iterable[Policy] = DEFAULT_POLICIES,
        algorithms: Set[int] | None = None,
        status_max_age: timedelta = STATUS_MAX_AGE,
    ) -> None:
        if not isinstance(trust_list, TrustList):
            raise LicenseError(f"trust list: expected a TrustList, got {type(trust_list).__name__}")
        if status_max_age <= timedelta(0):
            raise LicenseError(f"status list age: expected a positive limit, got {status_max_age}")
        self.trust_list = trust_list
        self.status_max_age = status_max_age
        self.policies = PolicySet.of(policies)
        self.algorithms = None if algorithms is None else frozenset(algorithms)
        self._keys: dict[bytes, PublicKey] = {}
        self._status_lists: dict[bytes, _LoadedStatusList] = {}

    def verify(
        self, credential: str | bytes, *, status_list: bytes | None = None, at: datetime
    ) -> VerificationResult:
        """Run steps 1-13 on QR text (``str``) or COSE bytes; never raises on bad input."""
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            return _result(_fail(VerificationStatus.INVALID, 11, "expected an aware `at`"), None)
        claims: LicenseClaims | None = None
        undisclosed: frozenset[str] = frozenset()
        checked = False
        step = 1
        try:
            data = self._bytes(credential)
            # 4-8 in one pass when the credential passes them all; else one by one, to name the
            # first step that fails and why.
            try:
                read = verify_well_formed(
                    data, self.trust_list, algorithms=self.algorithms, public_key=self._public_key
                )
            except ForgedSignature as forged:  # 8., found in the one pass: checked once only
                raise _fail(VerificationStatus.INVALID, 8, forged) from None
            if read is None:
                message = self._decode(data)
                step = 5
                parsed, entry = self._parse_and_look_up(message)
                step = 8
                claims, undisclosed = self._check_signature(parsed, entry)
            else:
                claims, undisclosed, entry = read
            step = 9
            self._check_key(entry, claims)
            _check_time(claims, at)
            step = 12
            checked = self._check_status(claims, status_list, at)
            step = 13
            context = PolicyContext(at=at, undisclosed=undisclosed, status_checked=checked)
            rejection = self.policies.first_rejection(claims, context)
            if rejection is not None:
                name, reason = rejection
                raise _fail(VerificationStatus.REJECTED, 13, f"{name}: {reason}")
        except _Failed as failure:
            return _result(failure, claims, undisclosed)
        except Exception as error:  # fail closed: no input may escape as an exception
            unexpected = _fail(VerificationStatus.INVALID, step, f"unexpected {error!r}")
            return _result(unexpected, claims, undisclosed)
        return _passed(claims, undisclosed, checked)

    # --- steps 1-5: bytes to structure ---------------------------------------------------------

    def _bytes(self, credential: object) -> bytes:
        if isinstance(credential, str):
            return _qr_steps(credential)
        if not isinstance(credential, bytes):
            raise _fail(
                VerificationStatus.MALFORMED,
                1,
                f"expected QR text or COSE bytes, got {type(credential).__name__}",
            )
        if len(credential) > MAX_COSE_BYTES:
            # 4. The same cap as for inflated QR payloads, so bytes input cannot be larger.
            raise _fail(
                VerificationStatus.MALFORMED,
                4,
                f"expected at most {MAX_COSE_BYTES} bytes, got {len(credential)}",
            )
        return credential

    def _decode(self, data: bytes) -> Sign1Message:
        try:
            return decode_message(data)
        except InvalidCredential as error:
            structure_error = error
        # 4. Only on failure is the CBOR decoded again, to tell bad CBOR from a bad structure.
        try:
            loads_strict(data)
        except KeyManagementError as error:
            raise _fail(VerificationStatus.MALFORMED, 4, error) from None
        # 5. Well-formed CBOR that is no COSE_Sign1 we accept.
        raise _fail(VerificationStatus.MALFORMED, 5, structure_error)

    def _parse_and_look_up(self, message: Sign1Message) -> tuple[ParsedCredential, KeyEntry]:
        # 5. Claims, digests and disclosures, strictly.
        try:
            parsed = parse_message(message)
        except InvalidCredential as error:
            raise _fail(VerificationStatus.MALFORMED, 5, error) from None
        # 6. The kid names a key on the trust list.
        kid = message.protected[KID]
        try:
            entry = self.trust_list.entry(kid)
        except KeyManagementError as error:
            raise _fail(VerificationStatus.UNKNOWN_ISSUER, 6, error) from None
        # 7. The algorithm is the key's own and one this verifier allows.
        alg = message.alg
        if alg != entry.alg:
            raise _fail(
                VerificationStatus.INVALID,
                7,
                f"key {kid.hex()} signs with algorithm {entry.alg}, message says {alg!r}",
            )
        if self.algorithms is not None and alg not in self.algorithms:
            raise _fail(
                VerificationStatus.INVALID,
                7,
                f"expected an algorithm in {sorted(self.algorithms)}, got {alg!r}",
            )
        return parsed, entry

    # --- steps 8-12 ----------------------------------------------------------------------------

    def _public_key(self, entry: KeyEntry) -> PublicKey:
        key = self._keys.get(entry.kid)
        if key is None:
            try:
                key = load_public_key(entry.public_key)
            except KeyManagementError as error:
                raise _fail(VerificationStatus.UNKNOWN_ISSUER, 6, error) from None
            self._keys[entry.kid] = key
        return key

    def _check_signature(
        self, parsed: ParsedCredential, entry: KeyEntry
    ) -> tuple[LicenseClaims, frozenset[str]]:
        # 8. The signature over the exact bytes, then each disclosure against its signed digest.
        try:
            parsed.verify_signature(self._public_key(entry))
            decoded = parsed.disclose()
        except InvalidCredential as error:
            raise _fail(VerificationStatus.INVALID, 8, error) from None
        return decoded.claims, decoded.undisclosed

    def _check_key(self, entry: KeyEntry, claims: LicenseClaims) -> None:
        # 9. The key belonged to the issuing department and was valid when the credential was made.
        problem = entry.problem(claims.iat, owner=claims.iss)
        if problem is not None:
            raise _fail(VerificationStatus.KEY_NOT_ALLOWED, 9, problem)
        # 10. The key may sign this license type.
        if claims.license_type not in entry.license_types:
            raise _fail(
                VerificationStatus.KEY_NOT_ALLOWED,
                10,
                f"key {entry.kid.hex()} may sign license types {sorted(entry.license_types)}, "
                f"not {claims.license_type!r}",
            )

    def _status_list(self, data: bytes) -> tuple[StatusList, KeyEntry]:
        # Each status list is loaded, and its signer looked up, once; a failure is kept as well.
        cached = self._status_lists.get(data)
        if cached is None:
            try:
                loaded = load_status_list(data, self.trust_list)
                cached = loaded, self.trust_list.entry(loaded.kid or b"")
            except (StatusListError, KeyManagementError) as error:
                cached = error
            if len(self._status_lists) >= _STATUS_CACHE_SIZE:
                self._status_lists.pop(next(iter(self._status_lists)))
            self._status_lists[data] = cached
        if isinstance(cached, Exception):
            raise _fail(VerificationStatus.INVALID, 12, cached)
        return cached

    def _check_status(self, claims: LicenseClaims, data: bytes | None, at: datetime) -> bool:
        # 12. The slot in a status list that verifies against the trust list and is the issuer's;
        # a good slot only in a list recent enough (a revocation or suspension stands at any age).
        if data is None:
            return False
        if not isinstance(data, bytes):
            raise _fail(VerificationStatus.INVALID, 12, "expected the status list as bytes")
        status_list, signer = self._status_list(data)
        if signer.owner != claims.iss:
            raise _fail(
                VerificationStatus.INVALID,
                12,
                f"expected a status list signed by the issuer {claims.iss!r}, "
                f"got one signed by {signer.owner!r}",
            )
        if status_list.list_id != claims.status.list_id:
            raise _fail(
                VerificationStatus.INVALID,
                12,
                f"expected status list {claims.status.list_id!r}, got {status_list.list_id!r}",
            )
        try:
            slot = status_list.get(claims.status.index)
        except StatusListError as error:
            raise _fail(VerificationStatus.INVALID, 12, error) from None
        if slot is SlotStatus.REVOKED:
            raise _fail(VerificationStatus.REVOKED, 12, _slot_reason(claims, status_list, slot))
        if slot is SlotStatus.SUSPENDED:
            raise _fail(VerificationStatus.SUSPENDED, 12, _slot_reason(claims, status_list, slot))
        issued = status_list.issued_at
        if issued is not None and at - issued > self.status_max_age:
            raise _fail(
                VerificationStatus.STATUS_OUTDATED,
                12,
                f"status list {status_list.list_id!r} was issued {issued.isoformat()}, "
                f"{at - issued} before the verification at {at.isoformat()}; at most "
                f"{self.status_max_age} is accepted: fetch a newer one",
            )
        return True


def _qr_steps(text: str) -> bytes:
    # 1. Prefix.
    try:
        body = strip_prefix(text)
    except InvalidCredential as error:
        raise _fail(VerificationStatus.MALFORMED, 1, error) from None
    # 2. Base45.
    try:
        compressed = b45decode(body)
    except InvalidCredential as error:
        raise _fail(VerificationStatus.MALFORMED, 2, error) from None
    # 3. zlib.
    try:
        return inflate(compressed)
    except InvalidCredential as error:
        raise _fail(VerificationStatus.MALFORMED, 3, error) from None


def _check_time(claims: LicenseClaims, at: datetime) -> None:
    # 11. nbf <= at < exp (RFC 8392 §3.1.4-5: not before nbf; on or after exp it is over).
    if at < claims.nbf:
        raise _fail(
            VerificationStatus.NOT_YET_VALID,
            11,
            f"valid from {claims.nbf.isoformat()}, verified at {at.isoformat()}",
        )
    if claims.exp is not None and at >= claims.exp:
        raise _fail(
            VerificationStatus.EXPIRED,
            11,
            f"expired at {claims.exp.isoformat()}, verified at {at.isoformat()}",
        )


def _slot_reason(claims: LicenseClaims, status_list: StatusList, slot: SlotStatus) -> str:
    issued = status_list.issued_at.isoformat() if status_list.issued_at else "?"
    return (
        f"slot {claims.status.index} of status list {status_list.list_id!r} "
        f"(issued {issued}) says {slot.name.lower()}"
    )


def _passed(
    claims: LicenseClaims, undisclosed: frozenset[str], checked: bool
) -> VerificationResult:
    # Every valid credential ends here, so the result is made without the frozen dataclass
    # __init__, whose attribute-by-attribute setting costs about a microsecond.
    result = object.__new__(VerificationResult)
    result.__dict__.update(
        status=VerificationStatus.VALID,
        step=None,
        step_name=None,
        reason=_PASSED if checked else _PASSED_UNCHECKED,
        claims=claims,
        undisclosed=undisclosed,
        status_checked=checked,
    )
    return result


def _result(
    failure: _Failed, claims: LicenseClaims | None, undisclosed: frozenset[str] = frozenset()
) -> VerificationResult:
    return VerificationResult(
        status=failure.status,
        step=failure.step,
        step_name=STEP_NAMES[failure.step],
        reason=failure.reason,
        claims=claims,
        undisclosed=undisclosed if claims is not None else frozenset(),
    )


def verify(
    credential: str | bytes,
    trust_list: TrustList,
    *,
    status_list: bytes | None = None,
    at: datetime,
    policies: PolicySet | Iterable[Policy] = DEFAULT_POLICIES,
    status_max_age: timedelta = STATUS_MAX_AGE,
) -> VerificationResult:
    """Verify QR text or COSE bytes against a loaded trust list (steps 1-13)."""
    return Verifier(trust_list, policies=policies, status_max_age=status_max_age).verify(
        credential, status_list=status_list, at=at
    )


def verify_qr_text(
    text: str,
    trust_list_bytes: bytes,
    root_public_key_der: bytes,
    *,
    status_list: bytes | None = None,
    at: datetime,
    policies: PolicySet | Iterable[Policy] = DEFAULT_POLICIES,
    status_max_age: timedelta = STATUS_MAX_AGE,
) -> VerificationResult:
    """Load the signed trust list with the root key, then verify QR text against it."""
    try:
        trust_list = load_trust_list(trust_list_bytes, root_public_key_der)
    except (KeyManagementError, TypeError, ValueError) as error:
        return _result(
            _fail(VerificationStatus.UNKNOWN_ISSUER, 6, f"trust list does not load: {error}"), None
        )
    return verify(
        text,
        trust_list,
        status_list=status_list,
        at=at,
        policies=policies,
        status_max_age=status_max_age,
    )
