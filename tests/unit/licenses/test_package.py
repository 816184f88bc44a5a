"""Import direction of ``licenses``: only the public side of ``keys``, never a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import licenses

PACKAGE = Path(licenses.__file__).resolve().parent
MODULES = sorted(PACKAGE.glob("*.py"))
# What licenses may use of keys: COSE, CBOR, algorithms, errors, the Signer port, and the
# read-only key entries and trust list. Never the key store or the key ring service.
ALLOWED_KEYS_MODULES = {
    "keys",
    "keys.algorithms",
    "keys.cbor",
    "keys.cose",
    "keys.errors",
    "keys.registry",
    "keys.signer",
    "keys.trustlist",
}
HIGHER_LAYERS = ("ledger", "projections", "api")
# The aggregate is pure domain: no encodings, no cryptography, no keys.
DOMAIN_FORBIDDEN = ("cbor2", "cryptography", "segno", "keys")


def imported(path: Path) -> set[str]:
    """Every module a file imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_licenses_modules_import_only_the_public_side_of_keys(path: Path) -> None:
    names = imported(path)
    higher = sorted(n for n in names if n.split(".")[0] in HIGHER_LAYERS)
    assert not higher, f"{path.name} imports a higher layer: {higher}"
    keys_modules = {n for n in names if n.split(".")[0] == "keys"}
    assert keys_modules <= ALLOWED_KEYS_MODULES, sorted(keys_modules - ALLOWED_KEYS_MODULES)


@pytest.mark.parametrize("module", ["domain", "guards", "model"])
def test_domain_side_imports_no_encoding_or_cryptography(module: str) -> None:
    names = imported(PACKAGE / f"{module}.py")
    found = sorted(n for n in names if n.split(".")[0] in DOMAIN_FORBIDDEN)
    assert not found, f"{module}.py imports {found}"
