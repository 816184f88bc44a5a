"""Opening the ledger from settings: the key store (passphrase from the environment, or for the
embedded default a generated passphrase file), the database, the calendar."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from api.config import Settings
from keys.store import PASSPHRASE_ENV, FileKeyStore
from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.persistence import postgres_env, sqlite_env

PASSPHRASE_FILE = ".passphrase"


@dataclass
class LedgerContext:
    """An open ledger with the key store it signs with."""

    settings: Settings
    ledger: CaseLedger
    keys: FileKeyStore

    def close(self) -> None:
        """Release database connections."""
        self.ledger.close()


def _passphrase(settings: Settings) -> tuple[str, bool]:
    """Return the key passphrase and whether it came from a generated local file."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env, False
    path = settings.data_dir / PASSPHRASE_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip(), True


def key_store(settings: Settings) -> tuple[FileKeyStore, bool]:
    """Return the file key store under the data directory and whether the passphrase is local."""
    passphrase, local = _passphrase(settings)
    return FileKeyStore(settings.data_dir / "keys", environ={PASSPHRASE_ENV: passphrase}), local


def ledger_env(settings: Settings) -> dict[str, str]:
    """Return the eventsourcing settings for the configured database."""
    if settings.uses_postgres:
        return postgres_env(**settings.postgres_parts())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_env(settings.sqlite_path)


def open_ledger(settings: Settings) -> LedgerContext:
    """Open the ledger; the root key must exist (run ``caseledger init`` first)."""
    store, _ = key_store(settings)
    root = store.signer("root")
    ledger = CaseLedger(
        ledger_env(settings),
        key_store=store,
        root_public_key_der=root.public_key_der(),
        calendar=load_calendar(provisional_fallback=settings.provisional_calendar),
    )
    return LedgerContext(settings=settings, ledger=ledger, keys=store)


def root_public_key_path(data_dir: Path) -> Path:
    """Where ``init`` publishes the root public key (DER SubjectPublicKeyInfo)."""
    return data_dir / "root.pub.der"
