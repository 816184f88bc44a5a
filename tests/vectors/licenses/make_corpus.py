"""Write the golden e-license corpus: one JSON per case plus the trust list, status list and root
key they need. Keys come from fixed seeds, salts from the case names and times are fixed, so the
output is the same on every run.

    .venv/bin/python tests/vectors/licenses/make_corpus.py [--check]

``--check`` writes nothing and exits 1 if any stored file differs from what the code makes now.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2

from keys import cose
from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list
from licenses.credential import DISCLOSURES
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential, present
from licenses.model import LicenseClaims, SlotStatus, StatusReference
from licenses.qr import PREFIX, b45encode, encode_qr_text
from licenses.status import StatusList
from licenses.verify import STEP_NAMES

HERE = Path(__file__).resolve().parent
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
CLOCK = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
ADMIN: dict[str, str | None] = {
    "principal": "corpus",
    "role": "admin",
    "department": None,
    "on_behalf_of": None,
}
DEPARTMENT = "scjgj"
OTHER_DEPARTMENT = "zrzyghj"
TYPE_CODE = "11100000000013338W011"
OTHER_TYPE_CODE = "11100000000013338W012"
ISSUER_USCC = "11430000006122244L"
HOLDER = "11010519491231002X"
LIST_ID = "scjgj/2026/1"
REVOKED_SLOT, SUSPENDED_SLOT = 90_001, 17_017
RETIRED_AT = T0 + timedelta(days=20)


def seeded(label: str) -> Ed25519Signer:
    """An Ed25519 signer whose seed is SHA-256 of a label."""
    return Ed25519Signer.from_seed(hashlib.sha256(f"caseledger corpus {label}".encode()).digest())


ROOT, ISSUER, RETIRED, OTHER, STRANGER = (
    seeded(n) for n in ("root", "scjgj", "scjgj-retired", "zrzyghj", "stranger")
)


def trust_list() -> bytes:
    """The root-signed trust list: the department's key, a revoked one, and another department."""
    ring = KeyRing(
        KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), ROOT.public_key_der()
    )
    ring.bootstrap(ROOT, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    for signer, owner in ((ISSUER, DEPARTMENT), (RETIRED, DEPARTMENT), (OTHER, OTHER_DEPARTMENT)):
        ring.register(
            root=ROOT,
            public_key_der=signer.public_key_der(),
            owner=owner,
            role=KeyRole.ISSUER,
            department=owner,
            license_types=[TYPE_CODE] if owner == DEPARTMENT else [],
            valid_from=T0,
            at=T0,
            actor=ADMIN,
        )
    retired_kid = kid_for(RETIRED.public_key_der())
    ring.revoke(
        retired_kid, revoked_at=RETIRED_AT, reason="key compromised", at=RETIRED_AT, actor=ADMIN
    )
    return build_trust_list(ring.entries(), root=ROOT, issued_at=RETIRED_AT, sequence=3)


def status_list() -> bytes:
    """The department's status list with one revoked and one suspended slot."""
    built = StatusList()
    built.set(REVOKED_SLOT, SlotStatus.REVOKED)
    built.set(SUSPENDED_SLOT, SlotStatus.SUSPENDED)
    issued = CLOCK - timedelta(hours=1)
    return built.to_signed(
        ISSUER, kid=kid_for(ISSUER.public_key_der()), issued_at=issued, list_id=LIST_ID
    )


def claims(serial: str, **changes: object) -> LicenseClaims:
    """A business license valid for five years from 2026-02-01, changed as asked."""
    start = datetime(2026, 2, 1, tzinfo=UTC)
    values: dict[str, object] = {
        "iss": DEPARTMENT,
        "sub": HOLDER,
        "iat": start,
        "nbf": start,
        "exp": start + timedelta(days=5 * 365),
        "license_id": str(LicenseId(TYPE_CODE, ISSUER_USCC, serial)),
        "license_type": TYPE_CODE,
        "version": 1,
        "status": StatusReference(LIST_ID, int(serial) % 131_072),
        "fields": {
            "name": "湖南某某科技有限公司",
            "legal_representative": "张三",
            "address": "长沙市岳麓区麓山南路1号",
            "scope": "软件开发；信息技术咨询服务",
            "registered_capital": 1_000_000,
            "listed": False,
        },
    }
    values.update(changes)
    return LicenseClaims(**values)  # type: ignore[arg-type]


def credential(case: str, content: LicenseClaims, signer: Ed25519Signer = ISSUER) -> bytes:
    """Sign ``content`` with salts derived from the case name."""
    salts = {
        name: hashlib.sha256(f"{case}/{name}".encode()).digest()[:16] for name in content.fields
    }
    return issue_credential(content, signer, kid=kid_for(signer.public_key_der()), salts=salts)


def forged(cose_bytes: bytes, signer: Ed25519Signer) -> bytes:
    """The same credential with its signature replaced by ``signer``'s over the same bytes."""
    protected, unprotected, payload, _ = cbor2.loads(cose_bytes).value
    signature = signer.sign(cose.sig_structure(protected, payload))
    return cose.encode_sign1(protected, dict(unprotected), payload, signature)


def tampered(cose_bytes: bytes) -> bytes:
    """The credential with the registered capital's disclosure changed (salt kept)."""
    protected, unprotected, payload, signature = cbor2.loads(cose_bytes).value
    disclosures = []
    for raw in unprotected[DISCLOSURES]:
        salt, name, value = cbor2.loads(raw)
        value = 90_000_000 if name == "registered_capital" else value
        disclosures.append(cbor2.dumps([salt, name, value], canonical=True))
    return cose.encode_sign1(protected, {DISCLOSURES: disclosures}, payload, signature)


@dataclass(frozen=True)
class Case:
    """One corpus case: how its QR text is made and what a verifier must answer."""

    name: str
    description: str
    status: str
    step: int | None
    make: Callable[[], str]


def valid_cose() -> bytes:
    """The valid case's credential."""
    return credential("valid", claims("2026020100001"))


CASES = [
    Case(
        "valid",
        "all six fields disclosed, status slot valid",
        "valid",
        None,
        lambda: encode_qr_text(valid_cose()),
    ),
    Case(
        "valid_presentation",
        "the valid credential presenting only name and scope",
        "valid",
        None,
        lambda: encode_qr_text(present(valid_cose(), {"name", "scope"})),
    ),
    Case(
        "expired",
        "exp 2026-05-01, before the validation clock",
        "expired",
        11,
        lambda: encode_qr_text(
            credential("expired", claims("2026020100002", exp=datetime(2026, 5, 1, tzinfo=UTC)))
        ),
    ),
    Case(
        "not_yet_valid",
        "nbf 2026-07-01, after the validation clock",
        "not_yet_valid",
        11,
        lambda: encode_qr_text(
            credential(
                "not_yet_valid", claims("2026020100003", nbf=datetime(2026, 7, 1, tzinfo=UTC))
            )
        ),
    ),
    Case(
        "revoked",
        f"status slot {REVOKED_SLOT} is revoked in the status list",
        "revoked",
        12,
        lambda: encode_qr_text(
            credential(
                "revoked", claims("2026020100004", status=StatusReference(LIST_ID, REVOKED_SLOT))
            )
        ),
    ),
    Case(
        "suspended",
        f"status slot {SUSPENDED_SLOT} is suspended in the status list",
        "suspended",
        12,
        lambda: encode_qr_text(
            credential(
                "suspended",
                claims("2026020100005", status=StatusReference(LIST_ID, SUSPENDED_SLOT)),
            )
        ),
    ),
    Case(
        "unknown_issuer",
        "signed by a key that is not on the trust list",
        "unknown_issuer",
        6,
        lambda: encode_qr_text(credential("unknown_issuer", claims("2026020100006"), STRANGER)),
    ),
    Case(
        "key_revoked",
        "signed on 2026-02-01 by a key revoked on 2026-01-25",
        "key_not_allowed",
        9,
        lambda: encode_qr_text(credential("key_revoked", claims("2026020100007"), RETIRED)),
    ),
    Case(
        "signed_before_key_revoked",
        "signed on 2026-01-20 by the key revoked on 2026-01-25: earlier signatures stay valid",
        "valid",
        None,
        lambda: encode_qr_text(
            credential(
                "signed_before_key_revoked",
                claims(
                    "2026012000010",
                    iat=datetime(2026, 1, 20, tzinfo=UTC),
                    nbf=datetime(2026, 1, 20, tzinfo=UTC),
                ),
                RETIRED,
            )
        ),
    ),
    Case(
        "key_not_allowed_for_type",
        f"license type {OTHER_TYPE_CODE}, which the department's key may not sign",
        "key_not_allowed",
        10,
        lambda: encode_qr_text(
            credential(
                "key_not_allowed_for_type",
                claims(
                    "2026020100008",
                    license_type=OTHER_TYPE_CODE,
                    license_id=str(LicenseId(OTHER_TYPE_CODE, ISSUER_USCC, "2026020100008")),
                ),
            )
        ),
    ),
    Case(
        "forged_signature",
        "the department's kid, but signed by another department's key",
        "invalid",
        8,
        lambda: encode_qr_text(
            forged(credential("forged_signature", claims("2026020100009")), OTHER)
        ),
    ),
    Case(
        "tampered_field",
        "registered_capital disclosure changed to 90000000 after signing",
        "invalid",
        8,
        lambda: encode_qr_text(tampered(valid_cose())),
    ),
    Case(
        "wrong_prefix",
        "the valid credential behind the EU DCC prefix HC1:",
        "malformed",
        1,
        lambda: "HC1:" + encode_qr_text(valid_cose())[len(PREFIX) :],
    ),
    Case(
        "bad_base45",
        "the valid text with one character replaced by lowercase 'a'",
        "malformed",
        2,
        lambda: (lambda t: t[:20] + "a" + t[21:])(encode_qr_text(valid_cose())),
    ),
    Case(
        "bad_zlib",
        "the valid COSE bytes in Base45 without zlib compression",
        "malformed",
        3,
        lambda: PREFIX + b45encode(valid_cose()),
    ),
    Case(
        "trailing_bytes",
        "the valid COSE bytes followed by one 0x00 byte, then compressed",
        "malformed",
        4,
        lambda: PREFIX + b45encode(zlib.compress(valid_cose() + b"\x00", 9)),
    ),
]


def render() -> dict[str, bytes]:
    """Return every corpus file's name and content."""
    files: dict[str, bytes] = {
        "root_public_key.der": ROOT.public_key_der(),
        "trust_list.cose": trust_list(),
        "status_list.cose": status_list(),
    }
    manifest = ["case\tstatus\tstep\tdescription"]
    for case in CASES:
        document = {
            "QRTEXT": case.make(),
            "TESTCTX": {
                "VERSION": 1,
                "VALIDATIONCLOCK": CLOCK.isoformat().replace("+00:00", "Z"),
                "ROOTKEY": "root_public_key.der",
                "TRUSTLIST": "trust_list.cose",
                "STATUSLIST": "status_list.cose",
                "DESCRIPTION": case.description,
            },
            "EXPECTEDRESULTS": {
                "STATUS": case.status,
                "STEP": case.step,
                "STEPNAME": None if case.step is None else STEP_NAMES[case.step],
            },
        }
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        files[f"{case.name}.json"] = text.encode()
        manifest.append(f"{case.name}\t{case.status}\t{case.step or ''}\t{case.description}")
    files["MANIFEST.tsv"] = ("\n".join(manifest) + "\n").encode()
    return files


def main() -> int:
    """Write the corpus, or with --check compare it with what is stored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    files = render()
    if args.check:
        stale = [
            n
            for n, data in files.items()
            if not (HERE / n).is_file() or (HERE / n).read_bytes() != data
        ]
        for name in stale:
            print(f"differs: {name}")
        return 1 if stale else 0
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
