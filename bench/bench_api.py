"""HTTP throughput on loopback: (a) ``POST /v1/verify`` against a bare FastAPI endpoint returning
constant JSON, same uvicorn settings and load, alternating rounds; (b) case commands (submit and
receive of business-license cases, after a phase that uploads each case's five documents) with
applicant and officer tokens on two uvicorn workers.

    .venv/bin/python bench/bench_api.py [--seconds 5] [--rounds 3] [--connections 16]
        [--workers 1] [--cases 300] [--command-workers 2] [--postgres] [--python-load]
        [--part a|b]

The script starts and stops its own servers (``python -m api.cli serve`` on a temporary data dir
after ``demo``; ``bench.bare_app`` and ``bench.floor_app`` under ``python -m uvicorn``), on
127.0.0.1 only. Two floors show where the verify route's time goes: the route's authentication,
body and answer alone, and those plus the offline credential check. The load generator is
``wrk`` if installed, else a small asyncio client (which itself caps the bare endpoint's rate, so
its ratio reads high). SQLite by default; ``--postgres`` uses a fresh schema
on CASELEDGER_TEST_POSTGRES_DSN (or the local default) and drops it afterwards.
Target for (a): verify/bare >= 0.5 requests/s, on one worker by default (on two cores the load
generator needs the other one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import ensure_token_key, mint_token
from api.config import Settings
from api.context import key_store
from licenses.check_characters import USCC_ALPHABET
from licenses.holder_ids import make_uscc

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
BUSINESS_LICENSE = "11512000MB1578349K000112001000"  # 企业设立登记 (营业执照), 3 working days
MATERIALS = ("sqs", "zc", "rzwj", "zszm", "wtsh")
DESK = "zwfwzx"  # the service centre's front desk receives cases
VERIFIER_DEPARTMENT = "zjj"
PURPOSE = "施工许可"
FLOOR_PATH = "/v1/verify-floor"  # bench.floor_app: the service's verify route minus the work
CHECK_PATH = "/v1/verify-check"  # bench.floor_app: the floor plus the offline credential check
BARE_DEF_PATH = "/v1/verify-def"  # bench.bare_app's plain-def twin of its verify endpoint


# --- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A server process (and its uvicorn workers) started by this script."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the server's process group, the way Ctrl+C would, then for good."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path) -> Server:
    """Start a server in its own process group and wait until it answers on ``port``."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            status, _ = asyncio.run(request_once(port, b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n"))
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")


def serve_caseledger(env: dict[str, str], workers: int, workdir: Path, name: str) -> Server:
    """``caseledger serve`` with ``workers`` uvicorn workers."""
    port = free_port()
    argv = [sys.executable, "-m", "api.cli", "serve", "--host", HOST, "--port", str(port)]
    return start(name, [*argv, "--workers", str(workers)], env, port, workdir)


def serve_app(name: str, factory: str, env: dict[str, str], workers: int, workdir: Path) -> Server:
    """An app factory with the uvicorn settings ``caseledger serve`` uses (log level info)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", factory, "--factory"]
    argv += ["--host", HOST, "--port", str(port), "--workers", str(workers), "--log-level", "info"]
    return start(name, argv, env, port, workdir)


# --- a small HTTP/1.1 client ---------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one response with a Content-Length body; return its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def request_once(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send one request on a fresh connection."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(raw)
        return await read_response(reader)
    finally:
        writer.close()


def post(path: str, body: object, token: str, key: str | None = None) -> bytes:
    """The bytes of a keep-alive JSON POST (no body for ``None``)."""
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n"
    )
    if key is not None:
        head += f"Idempotency-Key: {key}\r\n"
    return head.encode() + b"\r\n" + data


# --- load: wrk, or the asyncio client ------------------------------------------------------------


@dataclass
class Load:
    """One round's outcome."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of sorted values."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise SystemExit(f"wrk printed no {pattern!r}:\n{text}")
    return match


def _wrk_ms(text: str) -> float:
    match = _found(r"^([\d.]+)(us|ms|s)$", text)
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def wrk_round(port: int, raw: bytes, seconds: float, connections: int, workdir: Path) -> Load:
    """Run ``wrk`` against ``port`` with the request in ``raw`` for ``seconds``."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        if name.lower() not in ("host", "content-length"):
            headers[name] = value
    script = workdir / "request.lua"
    body_file = workdir / "request.body"
    body_file.write_bytes(body)
    lua = [f'wrk.method = "{method}"']
    lua += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lua += [f'local f = io.open("{body_file}", "rb")', "wrk.body = f:read('*a')", "f:close()"]
    script.write_text("\n".join(lua) + "\n")
    threads = min(2, connections)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    out = subprocess.run(
        [*argv, "-s", str(script), f"http://{HOST}:{port}{path}"],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(_found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _wrk_ms(_found(r"\s50%\s+(\S+)", out).group(1))
    p99 = _wrk_ms(_found(r"\s99%\s+(\S+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(rps, p50, p99, errors)


async def _python_round(
    port: int, raw: bytes, seconds: float, connections: int, max_requests: int
) -> Load:
    latencies: list[float] = []
    errors = 0
    budget = [max_requests]
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                sent = time.perf_counter()
                writer.write(raw)
                status, _ = await read_response(reader)
                latencies.append(time.perf_counter() - sent)
                errors += status >= 300
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return Load(
        len(latencies) / elapsed,
        percentile(ordered, 0.50) * 1000,
        percentile(ordered, 0.99) * 1000,
        errors,
    )


def load_round(
    port: int, raw: bytes, args: argparse.Namespace, workdir: Path, seconds: float
) -> Load:
    """One bounded round of load on ``port``."""
    if args.generator == "wrk":
        return wrk_round(port, raw, seconds, args.connections, workdir)
    return asyncio.run(_python_round(port, raw, seconds, args.connections, args.max_requests))


# --- the ledger's data dir -----------------------------------------------------------------------


@contextlib.contextmanager
def storage(kind: str, workdir: Path) -> Iterator[dict[str, str]]:
    """Environment of the servers: a fresh data dir, and on PostgreSQL a fresh schema."""
    env = {
        **os.environ,
        "CASELEDGER_DATA": str(workdir / "data"),
        # A 50-working-day permit received late in a year reaches into the next year, whose
        # holiday notice may be unpublished: count such deadlines provisionally.
        "CASELEDGER_PROVISIONAL_CALENDAR": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CASELEDGER_TOKEN_ISSUERS", None)
    if kind == "sqlite":
        env["CASELEDGER_DATABASE_URL"] = "sqlite"
        yield env
        return
    import psycopg

    dsn = os.environ.get("CASELEDGER_TEST_POSTGRES_DSN", DEFAULT_DSN)
    parts = dict(p.split("=", 1) for p in dsn.split())
    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    password = f":{parts['password']}" if parts.get("password") else ""
    env["CASELEDGER_DATABASE_URL"] = (
        f"postgresql://{parts.get('user', 'postgres')}{password}@{parts.get('host', HOST)}:"
        f"{parts.get('port', '5432')}/{parts.get('dbname', 'test')}?schema={schema}"
    )
    try:
        yield env
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def run_demo(env: dict[str, str], workdir: Path) -> str:
    """``caseledger demo`` (it initialises too); returns the license's QR text."""
    subprocess.run(
        [sys.executable, "-m", "api.cli", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=(workdir / "demo.log").open("wb"),
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    return (Path(env["CASELEDGER_DATA"]) / "demo" / "license.qr.txt").read_text().strip()


@dataclass
class Tokens:
    """Bearer tokens of the local issuer, minted with the data dir's token key."""

    env: dict[str, str]
    minted: dict[tuple[str, str, str | None], str] = field(default_factory=dict)

    def __call__(self, sub: str, role: str, department: str | None = None) -> str:
        key = (sub, role, department)
        if key not in self.minted:
            store, _ = key_store(Settings.from_env(self.env))
            signer = ensure_token_key(store)
            now = datetime.now(UTC)
            self.minted[key] = mint_token(signer, sub, role, department, timedelta(hours=1), now)
        return self.minted[key]


# --- (a) verify vs bare --------------------------------------------------------------------------


def wait_until_valid(port: int, raw: bytes) -> None:
    """The demo license becomes valid a few seconds after issue (its clock runs ahead)."""
    deadline = time.monotonic() + 120
    while True:
        status, body = asyncio.run(request_once(port, raw))
        if status == 200 and json.loads(body)["status"] == "valid":
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"verify never answered valid: {status} {body[:300]!r}")
        time.sleep(1)


def measure_verify(kind: str, args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> None:
    """Alternate rounds of load on the verify endpoint and on the bare endpoints."""
    qr_text = run_demo(env, workdir)
    token = Tokens(env)(f"verifier-{VERIFIER_DEPARTMENT}", "verifier", VERIFIER_DEPARTMENT)
    body = {"purpose": PURPOSE, "qr_text": qr_text}
    # The same request to each; the plain-def twin of the bare endpoint shows what FastAPI's
    # worker-thread dispatch alone costs (the verify route is a coroutine, as is the bare one).
    # The floor is the service's own authentication, parsing and answer without the verification.
    requests = {
        "verify": post("/v1/verify", body, token),
        "floor": post(FLOOR_PATH, body, token),
        "check": post(CHECK_PATH, body, token),
        "bare": post("/v1/verify", body, token),
        "bare-def": post(BARE_DEF_PATH, body, token),
    }
    verify = serve_caseledger(env, args.workers, workdir, "verify")
    floor = serve_app("floor", "bench.floor_app:create_app", env, args.workers, workdir)
    bare = serve_app("bare", "bench.bare_app:create_app", env, args.workers, workdir)
    ports = {
        "verify": verify.port,
        "floor": floor.port,
        "check": floor.port,
        "bare": bare.port,
        "bare-def": bare.port,
    }
    rounds: dict[str, list[Load]] = {name: [] for name in requests}
    try:
        wait_until_valid(verify.port, requests["verify"])
        for name, raw in requests.items():  # warm up: connections, caches, code paths
            load_round(ports[name], raw, args, workdir, args.warmup)
        for n in range(args.rounds):
            names = list(requests)
            order = names if n % 2 == 0 else names[::-1]
            for name in order:  # alternate, so drift on the machine hits all alike
                rounds[name].append(
                    load_round(ports[name], requests[name], args, workdir, args.seconds)
                )
    finally:
        verify.stop()
        floor.stop()
        bare.stop()
    median = {
        name: Load(
            statistics.median(r.rps for r in loads),
            statistics.median(r.p50_ms for r in loads),
            statistics.median(r.p99_ms for r in loads),
            sum(r.errors for r in loads),
        )
        for name, loads in rounds.items()
    }
    print(
        f"\n(a) {kind}: POST /v1/verify vs a bare FastAPI endpoint (constant JSON); "
        f"{args.workers} uvicorn worker(s), {args.connections} connections, load by "
        f"{args.generator}; median of {args.rounds} alternating rounds of {args.seconds:g} s"
    )
    print(f"  every server: uvicorn {uvicorn.__version__} on {server_stack()}")
    print(f"  {'':34}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    labels = {
        "bare": "bare endpoint (coroutine)",
        "bare-def": "bare endpoint (plain def)",
        "floor": "floor (auth, parsing, no verify)",
        "check": "floor + offline credential check",
        "verify": "verify (signed use record)",
    }
    for name, label in labels.items():
        m = median[name]
        print(f"  {label:34}{m.rps:12.1f}{m.p50_ms:10.2f}{m.p99_ms:10.2f}{m.errors:8d}")
    for name, loads in rounds.items():
        print(f"    {name} rounds, requests/s: {', '.join(f'{r.rps:.1f}' for r in loads)}")
    ratio = median["verify"].rps / median["bare"].rps
    verdict = "holds" if ratio >= 0.5 else "missed"
    print(f"  ratio verify/bare, same dispatch {ratio:7.2f}   (target >= 0.5: {verdict})")
    versus_def = median["verify"].rps / median["bare-def"].rps
    print(f"  ratio verify/bare plain def      {versus_def:7.2f}")
    print(f"  ratio floor/bare, same dispatch  {median['floor'].rps / median['bare'].rps:7.2f}")
    print(f"  ratio check/bare, same dispatch  {median['check'].rps / median['bare'].rps:7.2f}")
    # Per request on the server's workers (the inverse of throughput): where the time goes, and
    # what the target leaves for everything the verify route does beyond the bare endpoint.
    cost = {n: args.workers * 1e6 / median[n].rps for n in ("bare", "floor", "check", "verify")}
    floor_us, check_us = cost["floor"] - cost["bare"], cost["check"] - cost["floor"]
    print(
        f"  per request (µs of a worker): bare {cost['bare']:.0f}; floor +{floor_us:.0f}; "
        f"credential check +{check_us:.0f}; online status and signed use record "
        f"+{cost['verify'] - cost['check']:.0f}; the target allows {2 * cost['bare']:.0f} in all"
    )
    # The two Ed25519 operations every verification owes (the credential's signature checked,
    # the use record signed), timed here: with the floor, they bound the ratio from above even
    # if decoding, the status lookup and the committed write cost nothing.
    verify_us, sign_us = ed25519_costs()
    ceiling = cost["bare"] / (cost["floor"] + verify_us + sign_us)
    print(
        f"  Ed25519 on this machine: verify {verify_us:.0f} µs, sign {sign_us:.0f} µs; the best "
        f"ratio the floor and these two allow {ceiling:.2f}"
    )


def server_stack() -> str:
    """The event loop and HTTP parser uvicorn picks by default (``auto``) here."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} with {http}"


def ed25519_costs(rounds: int = 2000) -> tuple[float, float]:
    """Microseconds of one Ed25519 signature check and one signature over 400 bytes, in-process."""
    key = Ed25519PrivateKey.generate()
    public, message = key.public_key(), bytes(400)
    signature = key.sign(message)
    verify = min(timeit.repeat(lambda: public.verify(signature, message), number=rounds, repeat=3))
    sign = min(timeit.repeat(lambda: key.sign(message), number=rounds, repeat=3))
    return verify * 1e6 / rounds, sign * 1e6 / rounds


# --- (b) commands --------------------------------------------------------------------------------


def company(n: int) -> str:
    """A valid unified social credit code of the n-th bench company."""
    body, value = "", n
    for _ in range(5):
        value, rest = divmod(value, len(USCC_ALPHABET))
        body = USCC_ALPHABET[rest] + body
    return make_uscc("9", "1", "512000", "MB3" + body)


def document(holder: str, code: str) -> bytes:
    """The 4 KiB PDF of one material of one company's application."""
    return (f"%PDF-1.7\n% {holder} {code}\n".encode() + b"%" * 4096)[:4096]


def materials(holder: str) -> dict[str, dict[str, object]]:
    """The business-license item's materials as references to that company's documents."""
    return {
        code: {
            "kind": "document",
            "sha256": hashlib.sha256(document(holder, code)).hexdigest(),
            "size": 4096,
            "media_type": "application/pdf",
        }
        for code in MATERIALS
    }


def upload(content: bytes, token: str) -> bytes:
    """The bytes of a keep-alive document upload."""
    head = (
        f"POST /v1/documents HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/pdf\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    return head.encode() + content


async def _commands(
    port: int, args: argparse.Namespace, tokens: Tokens, cases: range
) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {"upload": [], "submit": [], "receive": []}
    failures: list[str] = []
    officer = tokens(f"officer-{DESK}", "officer", DESK)
    applicants = [company(n) for n in cases]
    application_tokens = {holder: tokens(holder, "applicant") for holder in applicants}
    queue = list(reversed(applicants))
    deadline = time.perf_counter() + args.max_seconds

    async def call(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str, raw: bytes
    ) -> bytes:
        sent = time.perf_counter()
        writer.write(raw)
        status, answer = await read_response(reader)
        latencies[kind].append(time.perf_counter() - sent)
        if status >= 300:
            failures.append(f"{kind}: {status} {answer[:200]!r}")
        return answer

    async def uploader(pending: list[str]) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while pending and time.perf_counter() < deadline and not failures:
                holder = pending.pop()
                token = application_tokens[holder]
                for code in MATERIALS:
                    await call(reader, writer, "upload", upload(document(holder, code), token))
        finally:
            writer.close()

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while queue and time.perf_counter() < deadline and not failures:
                holder = queue.pop()
                body = {"item_code": BUSINESS_LICENSE, "materials": materials(holder)}
                raw = post("/v1/cases", body, application_tokens[holder], uuid.uuid4().hex)
                answer = await call(reader, writer, "submit", raw)
                if failures:
                    return
                case_id = json.loads(answer)["case_id"]
                path = f"/v1/cases/{case_id}/receive"
                await call(reader, writer, "receive", post(path, None, officer, uuid.uuid4().hex))
        finally:
            writer.close()

    # First every applicant uploads their documents, then the commands refer to them: each
    # phase is timed on its own.
    began = time.perf_counter()
    pending = list(applicants)
    await asyncio.gather(*(uploader(pending) for _ in range(args.connections)))
    latencies["upload elapsed"] = [time.perf_counter() - began]
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.connections)))
    latencies["elapsed"] = [time.perf_counter() - began]
    if failures:
        raise SystemExit(f"a request failed: {failures[0]}")
    return latencies


def measure_commands(
    kind: str, args: argparse.Namespace, workdir: Path, env: dict[str, str]
) -> None:
    """Submit and receive ``--cases`` business-license cases over HTTP."""
    tokens = Tokens(env)
    server = serve_caseledger(env, args.command_workers, workdir, "commands")
    try:
        # Warm up on other companies' cases: connections, caches, code paths of both workers.
        asyncio.run(
            _commands(server.port, args, tokens, range(10_000, 10_000 + 4 * args.connections))
        )
        result = asyncio.run(_commands(server.port, args, tokens, range(args.cases)))
    finally:
        server.stop()
    elapsed = result.pop("elapsed")[0]
    upload_elapsed = result.pop("upload elapsed")[0]
    every = sorted(x for k, values in result.items() if k != "upload" for x in values)
    print(
        f"\n(b) {kind}: case commands over HTTP, {args.command_workers} uvicorn workers, "
        f"{args.connections} clients, {args.cases} business-license cases (first their five "
        "4 KiB documents uploaded, then submit and receive, each phase timed on its own)"
    )
    print(f"  {'':12}{'requests':>10}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for label, values in (*result.items(), ("commands", every)):
        span = upload_elapsed if label == "upload" else elapsed
        ordered = sorted(values)
        print(
            f"  {label:12}{len(ordered):10d}{len(ordered) / span:12.1f}"
            f"{percentile(ordered, 0.5) * 1000:10.2f}{percentile(ordered, 0.99) * 1000:10.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    """Run (a) and (b) on SQLite, or on PostgreSQL with ``--postgres``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of a measured round")
    parser.add_argument("--warmup", type=float, default=2.0, help="length of the warm-up round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for (a)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="per round (python)")
    parser.add_argument("--cases", type=int, default=300, help="cases for (b)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time cap for (b)")
    parser.add_argument("--command-workers", type=int, default=2, help="uvicorn workers for (b)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--python-load", action="store_true", help="never use wrk")
    parser.add_argument("--part", choices=("a", "b"), help="only (a) verify or (b) commands")
    args = parser.parse_args(argv)
    args.generator = "wrk" if shutil.which("wrk") and not args.python_load else "python"
    kind = "postgres" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, storage(kind, Path(tmp)) as env:
        if args.part in (None, "a"):
            measure_verify(kind, args, Path(tmp), env)
        if args.part in (None, "b"):
            if args.part == "b":
                run_demo(env, Path(tmp))  # (a) initialises the data dir otherwise
            measure_commands(kind, args, Path(tmp), env)


if __name__ == "__main__":
    main()
