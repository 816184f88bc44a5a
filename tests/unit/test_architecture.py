"""The layering of DESIGN §1 holds: imports point down api → projections → ledger → licenses →
keys only, nothing imports api, and the domain modules stay free of I/O-level libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("keys", "licenses", "ledger", "projections", "api")
ALLOWED = {
    "keys": {"keys"},
    "licenses": {"licenses", "keys"},
    "ledger": {"ledger", "licenses", "keys"},
    "projections": {"projections", "ledger", "licenses", "keys"},
    "api": set(PACKAGES),
}
# Aggregates, values and rules: no cryptography, no CBOR, no web framework, no other package.
DOMAIN_MODULES = [
    "ledger/actors.py",
    "ledger/authority.py",
    "ledger/calendar.py",
    "ledger/case.py",
    "ledger/case_acceptance.py",
    "ledger/case_results.py",
    "ledger/case_review.py",
    "ledger/case_state.py",
    "ledger/case_values.py",
    "ledger/catalog.py",
    "ledger/catalog_terms.py",
    "ledger/documents.py",
    "ledger/errors.py",
    "ledger/findings.py",
    "ledger/regions.py",
    "ledger/rules.py",
    "ledger/commands.py",
    "licenses/domain.py",
]
FORBIDDEN_IN_DOMAIN = {
    "cbor2",
    "cryptography",
    "fastapi",
    "pydantic",
    "starlette",
    "psycopg",
    "sqlite3",
    "keys",
    "licenses",
    "projections",
    "api",
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules_of(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(
            (imported_roots(path) & set(PACKAGES)) - ALLOWED[package]
        )
        for path in modules_of(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_a_domain_module_imports_no_io_crypto_or_web_library(module: str) -> None:
    path = REPO / module
    assert path.exists(), f"{module} moved: update this list"
    forbidden = imported_roots(path) & FORBIDDEN_IN_DOMAIN
    if module.startswith("licenses/"):
        forbidden -= {"licenses"}  # the license aggregate uses its own package's values
    assert forbidden == set()


def test_every_package_says_what_it_owns() -> None:
    for package in PACKAGES:
        doc = ast.get_docstring(ast.parse((REPO / package / "__init__.py").read_text("utf-8")))
        assert doc and len(doc.splitlines()) <= 6, package


def test_no_module_is_named_utils_or_helpers() -> None:
    names = {p.name for package in PACKAGES for p in modules_of(package)}
    assert not names & {"utils.py", "helpers.py"}
