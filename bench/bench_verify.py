"""Offline verification time per e-license credential vs raw Ed25519 verification of the same
Sig_structure bytes in the same run, plus QR encode and decode time.

    .venv/bin/python bench/bench_verify.py [--n 300] [--rounds 7]

The last lines time reading the QR code back from a picture of it (a screenshot, a phone photo).

Every credential is distinct (its own license id, slot and salts). The credentials are timed in
batches of 10, each batch ``--rounds`` times with the rows taking turns, and the best time of
each batch counts. Target: verification / raw Ed25519 ≤ 1.5.

The "floor" row does only the work no verifier can skip (strict CBOR decoding of the message,
payload and disclosures, the disclosure digests, the license and holder id checks and the
signature), with none of the verifier's own structure checks or result objects around it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

from keys.cbor import loads_strict
from keys.cose import decode_sign1, sig_structure
from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list, load_trust_list
from licenses.holder_ids import is_holder_id
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential
from licenses.model import LicenseClaims, SlotStatus, StatusReference
from licenses.qr import decode_qr_text, encode_qr_text, qr_png
from licenses.qr_scan import read_qr_image
from licenses.status import StatusList
from licenses.verify import Verifier

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
AT = T0 + timedelta(days=100)
ADMIN: dict[str, str | None] = {
    "principal": "bench",
    "role": "admin",
    "department": None,
    "on_behalf_of": None,
}
DEPARTMENT = "scjgj"
TYPE_CODE = "11100000000013338W011"
ISSUER_USCC = "11430000006122244L"
LIST_ID = "scjgj/2026/1"
FIELDS: dict[str, str | int | bool] = {
    "name": "湖南某某科技有限公司",
    "legal_representative": "张三",
    "address": "长沙市岳麓区麓山南路1号",
    "scope": "软件开发；信息技术咨询服务",
    "registered_capital": 1_000_000,
    "listed": False,
}


def signer(label: str) -> Ed25519Signer:
    """A signer from a fixed seed."""
    return Ed25519Signer.from_seed(hashlib.sha256(label.encode()).digest())


def world() -> tuple[Ed25519Signer, Verifier, bytes]:
    """The issuing key, a verifier over a root-signed trust list, and a signed status list."""
    root, issuer = signer("bench root"), signer("bench scjgj")
    ring = KeyRing(
        KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), root.public_key_der()
    )
    ring.bootstrap(root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    ring.register(
        root=root,
        public_key_der=issuer.public_key_der(),
        owner=DEPARTMENT,
        role=KeyRole.ISSUER,
        department=DEPARTMENT,
        license_types=[TYPE_CODE],
        valid_from=T0,
        at=T0,
        actor=ADMIN,
    )
    signed = build_trust_list(ring.entries(), root=root, issued_at=T0, sequence=1)
    verifier = Verifier(load_trust_list(signed, root.public_key_der()))
    status_list = StatusList()
    status_list.set(7, SlotStatus.REVOKED)
    status = status_list.to_signed(
        issuer, kid=kid_for(issuer.public_key_der()), issued_at=AT, list_id=LIST_ID
    )
    return issuer, verifier, status


def credentials(issuer: Ed25519Signer, n: int) -> list[bytes]:
    """``n`` distinct credentials."""
    made = []
    for i in range(n):
        serial = f"2026{i:08d}"
        claims = LicenseClaims(
            iss=DEPARTMENT,
            sub="11010519491231002X",
            iat=T0 + timedelta(days=1),
            nbf=T0 + timedelta(days=1),
            exp=T0 + timedelta(days=1826),
            license_id=str(LicenseId(TYPE_CODE, ISSUER_USCC, serial)),
            license_type=TYPE_CODE,
            version=1,
            status=StatusReference(LIST_ID, 1000 + i),
            fields=FIELDS,
        )
        made.append(issue_credential(claims, issuer, kid=kid_for(issuer.public_key_der())))
    return made


def floor(credential: bytes, public_key: Ed25519PublicKey, to_be_signed: bytes) -> None:
    """The work no verifier can skip, without any of its checks around it."""
    _, unprotected, payload, signature = loads_strict(credential).value
    claims = cbor2.loads(payload)
    if cbor2.dumps(claims) != payload:
        raise SystemExit("bench payload is not in preferred encoding")
    for raw in unprotected[-65537]:
        cbor2.loads(raw)
        hashlib.sha256(raw).digest()
    LicenseId.parse(claims["lid"])
    is_holder_id(claims[2])
    public_key.verify(signature, to_be_signed)


def best_of(
    rows: dict[str, Callable[[int], object]], n: int, rounds: int, batch: int = 10
) -> dict[str, float]:
    """Time per item (seconds) for each row: every batch of items timed ``rounds`` times, the
    best time of each batch kept, the rows taking turns batch by batch."""
    starts = range(0, n, batch)
    best = {name: dict.fromkeys(starts, float("inf")) for name in rows}
    clock = time.perf_counter
    for _ in range(rounds):
        for start in starts:
            items = range(start, min(start + batch, n))
            for name, run in rows.items():
                began = clock()
                for i in items:
                    run(i)
                best[name][start] = min(best[name][start], clock() - began)
    # Short batches and the best of each keep bursts of machine load out of the figures.
    return {name: sum(times.values()) / n for name, times in best.items()}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="credentials (default 300)")
    parser.add_argument("--rounds", type=int, default=7, help="passes per row (default 7)")
    args = parser.parse_args(argv)

    issuer, verifier, status = world()
    creds = credentials(issuer, args.n)
    texts = [encode_qr_text(c) for c in creds]
    public_key = issuer.public_key()
    raw = []
    for credential in creds:
        message = decode_sign1(credential)
        raw.append((message.signature, sig_structure(message.protected_bytes, message.payload)))
    for credential, text in zip(creds, texts, strict=True):
        for result in (
            verifier.verify(credential, at=AT),
            verifier.verify(text, status_list=status, at=AT),
        ):
            if not result.valid:
                raise SystemExit(f"bench credential does not verify: {result.reason}")

    rows: dict[str, Callable[[int], object]] = {
        "raw Ed25519 verify (Sig_structure)": lambda i: public_key.verify(*raw[i]),
        "floor (decode, digests, ids, Ed25519)": lambda i: floor(creds[i], public_key, raw[i][1]),
        "verify COSE bytes": lambda i: verifier.verify(creds[i], at=AT),
        "verify COSE bytes + status list": lambda i: verifier.verify(
            creds[i], status_list=status, at=AT
        ),
        "verify QR text + status list": lambda i: verifier.verify(
            texts[i], status_list=status, at=AT
        ),
        "QR encode (zlib + Base45)": lambda i: encode_qr_text(creds[i]),
        "QR decode (Base45 + zlib)": lambda i: decode_qr_text(texts[i]),
    }
    best = best_of(rows, args.n, args.rounds)
    base = best["raw Ed25519 verify (Sig_structure)"]
    size = sum(len(c) for c in creds) // len(creds)
    chars = sum(len(t) for t in texts) // len(texts)
    print(f"{args.n} credentials, {size} COSE bytes / {chars} QR characters each")
    print(f"best of {args.rounds} rounds per batch of 10, rows in turn")
    print(f"{'row':38} {'µs/credential':>14} {'× raw':>7}")
    for name, seconds in best.items():
        print(f"{name:38} {seconds * 1e6:14.1f} {seconds / base:7.2f}")
    ratio = best["verify COSE bytes + status list"] / base
    verdict = "meets" if ratio <= 1.5 else "misses"
    print(f"verification / raw Ed25519 = {ratio:.2f} ({verdict} the 1.5 target)")
    for label, picture in pictures(texts[0]).items():
        seconds = min(timeit_once(read_qr_image, picture) for _ in range(args.rounds))
        if read_qr_image(picture) != texts[0]:
            raise SystemExit(f"the {label} did not give back the QR text")
        print(f"QR read from a {label} ({len(picture):,} bytes): {seconds * 1e3:.1f} ms")


def timeit_once(function: Callable[[bytes], object], data: bytes) -> float:
    """Seconds one call takes."""
    began = time.perf_counter()
    function(data)
    return time.perf_counter() - began


def pictures(text: str) -> dict[str, bytes]:
    """A phone screenshot (PNG) and a 12-megapixel photo (JPEG) of the QR code of ``text``."""
    code = Image.open(io.BytesIO(qr_png(text, scale=6))).convert("L")
    made = {}
    for label, size, angle, kind in (
        ("1080×2340 PNG screenshot", (1080, 2340), 0, "PNG"),
        ("4000×3000 JPEG photo, tilted 8°", (4000, 3000), 8, "JPEG"),
    ):
        page = Image.new("L", size, 215)
        page.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
        if angle:
            page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=215)
        out = io.BytesIO()
        page.convert("RGB").save(out, format=kind, **({"quality": 85} if kind == "JPEG" else {}))
        made[label] = out.getvalue()
    return made


if __name__ == "__main__":
    main()
