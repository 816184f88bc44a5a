"""The Simplified Chinese labels documents print: department names, the acting officer, applicant
kinds, material kinds, visit targets and license states."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ledger.authority import SERVICE_CENTRE
from ledger.catalog_data import load_sample_departments
from ledger.catalog_terms import Material

HOLDER_KIND = {"citizen": "自然人", "enterprise": "法人或其他组织"}
LICENSE_STATE = {
    "not_yet_valid": "尚未生效",
    "active": "有效",
    "suspended": "已暂停",
    "expired": "已过期",
    "revoked": "已注销",
}


@functools.cache
def _department_names() -> Mapping[str, str]:
    # The catalog's departments, plus the service centre whose one window receives for them all.
    names = {code: named.name for code, named in load_sample_departments().items()}
    return {SERVICE_CENTRE: "政务服务中心", **names}


def department(code: str | None) -> str:
    """A department's name with its code, e.g. 资阳市市场监督管理局（scjgj）."""
    if not code:
        return "—"
    name = _department_names().get(code)
    return f"{name}（{code}）" if name else code


def officer(actor: Mapping[str, Any]) -> str:
    """Who acted, as a signed event's actor map records it (and for whom, when by proxy)."""
    who = str(actor.get("principal") or "—")
    if actor.get("on_behalf_of"):
        who += "（代办）"
    return who


def material_kind(material: Material) -> str:
    """主件 or 副件, and whether the original is checked on site."""
    kind = "主件" if material.is_main else "副件"
    return kind + ("，需核验原件" if material.original_check else "")


def visit_target(target: int) -> str:
    """The item's visit target in words."""
    return "0 次（不见面办理）" if target == 0 else f"最多 {target} 次（最多跑一次）"
