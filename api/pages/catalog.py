"""The public service catalog (事项目录) and each item's guide (办事指南) — what to bring, how
long it takes, how many visits — for applicants. Anyone; a signed-in applicant also finds the
guide's form to apply online (在线申请), which ``apply`` takes."""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import LedgerDep, Now, ReadsDep, RuntimeDep
from api.pages.errors import LOGIN, PageRoute, SignInRequired
from api.pages.labels import MATERIAL_KIND
from api.pages.layout import page
from api.pages.material_forms import material_table
from api.pages.session import Session, current_session
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.catalog import ItemTerms
from projections.catalog_view import CatalogView

router = APIRouter(
    prefix="/pages", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
ItemCode = Annotated[str, Path(min_length=1, max_length=64)]
APPLY_FORM = "apply"  # the online application form's CSRF name

_HANDLING = {"immediate": "即办件", "commitment": "承诺件"}
_STEPS = {
    "site_inspection": "现场勘查",
    "expert_review": "专家评审",
    "hearing": "听证",
    "public_notice": "公示",
    "testing": "检验检测",
}


def _visits(target: int) -> str:
    return "不见面（零跑）" if target == 0 else "最多跑一次"


@router.get("/")
def catalog_page(reads: ReadsDep) -> HTMLResponse:
    """The catalog: every item with its lead department, promised days and visits. Anyone."""
    rows = "".join(
        f'<tr><td><a href="/pages/items/{escape(item.code)}">{escape(item.latest.name)}</a></td>'
        f"<td>{escape(item.latest.item_type)}</td><td>{escape(item.latest.lead_department)}</td>"
        f"<td>{item.latest.promised_days} 个工作日</td><td>{_visits(item.latest.visit_target)}</td>"
        f"<td>{'已暂停' if item.withdrawn_from else '可办理'}</td></tr>"
        for item in reads.model(CatalogView).items(reads.database)
    )
    head = "<tr><th>事项名称</th><th>事项类型</th><th>实施部门</th><th>承诺时限</th>"
    return page(
        "政务服务事项目录", f"<table>{head}<th>到场次数</th><th>状态</th></tr>{rows}</table>"
    )


async def maybe_session(request: Request, runtime: RuntimeDep, now: Now) -> Session | None:
    """The browser's session if it has a valid one; a public page shows itself without."""
    try:
        return await current_session(request, runtime, now)
    except SignInRequired:
        return None


MaybeSession = Annotated[Session | None, Depends(maybe_session)]


@router.get("/items/{item_code}")
def item_page(
    session: MaybeSession, ledger: LedgerDep, now: Now, item_code: ItemCode
) -> HTMLResponse:
    """An item's guide in force today: conditions, materials, time limits, fees; for a signed-in
    applicant, the form to apply online. Anyone."""
    return guide_page(session, ledger, now, item_code)


def guide_page(
    session: Session | None,
    ledger: CaseLedger,
    now: datetime,
    item_code: str,
    *,
    error: str = "",
    status: int = 200,
    slug: str = "validation-failed",
) -> HTMLResponse:
    """The item's guide page; ``error`` (with ``status`` and the API's problem ``slug``) says why
    an application was refused, above a fresh form to try again."""
    terms = ledger.item(item_code).terms_at(now)
    shown = (
        f'<p class="error">{escape(error)}</p><p class="code">HTTP {status} · {escape(slug)}</p>'
        if error
        else ""
    )
    body = f"{shown}{_guide(terms)}<h2>在线申请</h2>{_apply(session, item_code, terms)}"
    nav = session.nav() if session else None
    return page(f"{terms.name} 办事指南", body, nav=nav, status=status)


def _apply(session: Session | None, item_code: str, terms: ItemTerms) -> str:
    if session is None or session.principal.role is not Role.APPLICANT:
        return f'<p>请以申请人身份<a href="{LOGIN}">登录</a>后在线申请。</p>'
    # A fresh one-time number each time the form is shown: posting the same form twice names the
    # same submission, so it makes one case.
    nonce = secrets.token_urlsafe(24)
    table = material_table(terms, [m.code for m in terms.materials], kinds=True, licensable=True)
    return (
        f'<form method="post" action="/pages/apply/{escape(item_code)}" '
        'enctype="multipart/form-data">'
        f'<input type="hidden" name="csrf" value="{escape(session.csrf(APPLY_FORM))}">'
        f'<input type="hidden" name="nonce" value="{nonce}">'
        "<p>逐项上传材料；可用电子证照的材料填写证照编号即可，无需上传。</p>"
        f"{table}<p><button>提交申请</button></p></form>"
    )


def _guide(terms: ItemTerms) -> str:
    facts = [
        ("实施编码", terms.implementation_code),
        ("事项类型", terms.item_type.value),
        ("实施部门", "、".join(terms.required_departments)),
        ("办件类型", _HANDLING.get(terms.handling.value, terms.handling.value)),
        ("法定时限", f"{terms.statutory_days} 个工作日"),
        ("承诺时限", f"{terms.promised_days} 个工作日"),
        ("到场次数", _visits(terms.visit_target)),
        ("改革状态", terms.reform_status.value),
        ("特殊环节", "、".join(_STEPS.get(s.value, s.value) for s in terms.special_steps) or "无"),
        ("设定依据", "；".join(terms.legal_basis)),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    materials = "".join(
        f"<tr><td>{escape(m.name)}</td><td>{MATERIAL_KIND.get(m.kind.value, m.kind.value)}</td>"
        f"<td>{'<span class=tag>可容缺</span>' if m.tolerable else ''}</td>"
        f"<td>{'<span class=tag>可用电子证照，无需提交</span>' if m.e_license_type else ''}</td>"
        f"<td>{'需核验原件' if m.original_check else ''}</td></tr>"
        for m in terms.materials
    )
    conditions = "".join(f"<li>{escape(c)}</li>" for c in terms.conditions) or "<li>无</li>"
    fees = (
        "".join(f"<li>{escape(f.name)}：{f.amount} 元</li>" for f in terms.fees)
        or "<li>不收费</li>"
    )
    head = "<tr><th>材料名称</th><th>类别</th><th>容缺受理</th><th>电子证照</th><th>原件</th></tr>"
    return (
        f"<table>{table}</table><h2>受理条件</h2><ul>{conditions}</ul>"
        f"<h2>申请材料</h2><table>{head}{materials}</table><h2>收费</h2><ul>{fees}</ul>"
        f"<p>{escape(terms.notes)}</p>"
    )
