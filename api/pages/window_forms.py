"""The window officer's forms on one case (受理, 一次性告知, 容缺受理, 代为补正, 代为补齐,
快递送达, 窗口领取, 不予受理) as HTML, and the API's request bodies built from their fields, so
bad input is refused by the same pydantic models as over JSON; their material tables are the ones
``material_forms`` renders and checks."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from html import escape
from typing import Any

from pydantic import ValidationError

from api.pages.material_forms import material_name, material_table
from api.schemas import (
    CorrectionCreate,
    CorrectionNoticeCreate,
    DispatchCreate,
    RefusalCreate,
    SupplementCreate,
    ToleranceCreate,
)
from ledger.case import Case
from ledger.case_values import CaseStatus, SupplementVia
from ledger.documents import missing_materials


class WindowForm(StrEnum):
    """A window form, named as the case route it goes through."""

    RECEIVE = "receive"
    NOTIFY = "notify-correction"
    TOLERATE = "accept-with-tolerance"
    CORRECT = "correct"
    SUPPLEMENT = "supplement"
    DISPATCH = "dispatch"
    PICK_UP = "pick-up"
    REFUSE = "refuse"


TITLES = {
    WindowForm.RECEIVE: "受理",
    WindowForm.NOTIFY: "一次性告知",
    WindowForm.TOLERATE: "容缺受理",
    WindowForm.CORRECT: "代为补正",
    WindowForm.SUPPLEMENT: "代为补齐",
    WindowForm.DISPATCH: "快递送达",
    WindowForm.PICK_UP: "窗口领取",
    WindowForm.REFUSE: "不予受理",
}
# The forms with a material table, whose files are posted as multipart/form-data.
UPLOADING = frozenset({WindowForm.CORRECT, WindowForm.SUPPLEMENT})
# Which forms the page shows in each status: those whose command the case's guards accept there
# (ledger/case_acceptance.py, ledger/case_results.py). It only spares the officer a form bound to
# fail; the ledger still judges every submission and refuses the rest with its own page.
_BY_STATUS: dict[CaseStatus, tuple[WindowForm, ...]] = {
    CaseStatus.SUBMITTED: (
        WindowForm.RECEIVE,
        WindowForm.NOTIFY,
        WindowForm.TOLERATE,
        WindowForm.REFUSE,
    ),
    CaseStatus.AWAITING_CORRECTION: (WindowForm.CORRECT, WindowForm.REFUSE),
    CaseStatus.RECEIVED: (WindowForm.NOTIFY,),
    CaseStatus.PAUSED_FOR_CORRECTION: (WindowForm.CORRECT,),
    CaseStatus.ISSUED: (WindowForm.DISPATCH, WindowForm.PICK_UP),
}
# The fields of the request models, as the officer knows them, for the 422 page.
FIELD_NAMES = {
    "items": "告知材料及理由",
    "text": "告知内容",
    "commitment": "承诺内容",
    "commitment_due": "承诺补齐日期",
    "reasons": "不予受理理由",
    "legal_basis": "法律依据",
    "materials": "材料",
    "via": "补齐方式",
    "courier": "快递公司",
    "tracking_number": "运单号",
}
_VIA = {
    SupplementVia.ONLINE: "网上",
    SupplementVia.EMAIL: "电子邮件",
    SupplementVia.IM: "即时通讯",
    SupplementVia.FAX: "传真",
}


def offered(case: Case) -> list[WindowForm]:
    """The window forms worth showing for ``case`` as it stands."""
    forms = list(_BY_STATUS.get(case.status, ()))
    decision = case.decision
    if case.status is CaseStatus.DECIDED and decision is not None and not decision.grant:
        # A denial's result is the written decision itself; it leaves like a license would.
        forms += [WindowForm.DISPATCH, WindowForm.PICK_UP]
    if case.open_commitments:
        forms.append(WindowForm.SUPPLEMENT)
    return forms


def invalid_fields(exc: ValueError) -> str:
    """What the officer must fix, named in Chinese (inputs are not echoed: they may be personal)."""
    if not isinstance(exc, ValidationError):
        return "表单内容不完整，请刷新页面后重新填写"
    located = (str(e["loc"][0]) for e in exc.errors() if e["loc"])
    names = dict.fromkeys(FIELD_NAMES.get(field, "表单") for field in located)
    return "请检查以下内容后重新提交：" + "、".join(names or ["表单"])


# --- HTML ----------------------------------------------------------------------------------------


def _notice_fields(case: Case) -> str:
    rows = "".join(
        f'<tr><td><input type="checkbox" name="pick" value="{escape(m.code)}"></td>'
        f'<td><input type="hidden" name="material" value="{escape(m.code)}">'
        f"{material_name(case.terms, m.code)}</td>"
        '<td><input type="text" name="reason" maxlength="2000"></td></tr>'
        for m in case.terms.materials
    )
    return (
        f"<table><tr><th>补正</th><th>材料</th><th>补正理由</th></tr>{rows}</table>"
        '<label>告知内容</label><textarea name="text" rows="3" maxlength="2000" required>'
        "</textarea>"
    )


def _tolerance_fields(case: Case) -> str:
    main, secondary = missing_materials(case.terms, case.materials.keys())
    # The ledger commits every missing secondary material (the route takes no choice of them), so
    # the officer sees which ones, and any missing main material, before acting.
    names = [[material_name(case.terms, c) for c in codes] for codes in (main, secondary)]
    missing = ["、".join(listed) or "无" for listed in names]
    return (
        f"<p>缺少的主件：{missing[0]}</p><p>缺少的副件（申请人承诺补齐）：{missing[1]}</p>"
        '<label>承诺内容</label><textarea name="commitment" rows="3" maxlength="2000" required>'
        '</textarea><label>承诺补齐日期</label><input type="date" name="commitment_due" required>'
    )


def _fields(form: WindowForm, case: Case, noticed: Sequence[str]) -> str:
    if form is WindowForm.NOTIFY:
        return _notice_fields(case)
    if form is WindowForm.TOLERATE:
        return _tolerance_fields(case)
    if form is WindowForm.CORRECT:
        return "<p>按一次性告知的材料逐项填写：</p>" + material_table(case.terms, noticed)
    if form is WindowForm.SUPPLEMENT:
        via = "".join(f'<option value="{v.value}">{name}</option>' for v, name in _VIA.items())
        rows = material_table(case.terms, case.open_commitments)
        return f'{rows}<label>补齐方式</label><select name="via">{via}</select>'
    if form is WindowForm.DISPATCH:
        return (
            '<label>快递公司代码</label><input type="text" name="courier" value="ems" '
            'maxlength="64" required><label>运单号</label>'
            '<input type="text" name="tracking_number" maxlength="64" required>'
        )
    if form is WindowForm.REFUSE:
        return (
            '<label>不予受理理由（每行一条）</label><textarea name="reasons" rows="3" '
            'maxlength="2000" required></textarea><label>法律依据</label>'
            '<input type="text" name="legal_basis" maxlength="2000" required>'
        )
    return ""


def form_html(form: WindowForm, case: Case, csrf: str, noticed: Sequence[str]) -> str:
    """One form, posting at the case's current version with the session's CSRF token."""
    target = f"/pages/desk/window/{case.id}/{form.value}"
    enctype = ' enctype="multipart/form-data"' if form in UPLOADING else ""
    return (
        f"<h2>{TITLES[form]}</h2>"
        f'<form method="post" action="{target}"{enctype}><input type="hidden" name="csrf" '
        f'value="{escape(csrf)}"><input type="hidden" name="version" value="{case.version}">'
        f"{_fields(form, case, noticed)}<p><button>{TITLES[form]}</button></p></form>"
    )


# --- request bodies ------------------------------------------------------------------------------


def notice_body(
    material: list[str], pick: list[str], reason: list[str], text: str
) -> CorrectionNoticeCreate:
    """The one-time notice's body: each picked material with its reason."""
    picked = set(pick)
    rows = zip(material, reason, strict=True)
    items = {code: why.strip() for code, why in rows if code in picked}
    return CorrectionNoticeCreate.model_validate({"items": items, "text": text.strip()})


def tolerance_body(commitment: str, commitment_due: str) -> ToleranceCreate:
    """The tolerance acceptance's body."""
    return ToleranceCreate.model_validate(
        {"commitment": commitment.strip(), "commitment_due": commitment_due.strip()}
    )


def refusal_body(reasons: str, legal_basis: str) -> RefusalCreate:
    """The refusal's body: one reason a line."""
    lines = [line.strip() for line in reasons.splitlines() if line.strip()]
    return RefusalCreate.model_validate({"reasons": lines, "legal_basis": legal_basis.strip()})


def dispatch_body(courier: str, tracking_number: str) -> DispatchCreate:
    """The courier hand-over's body."""
    return DispatchCreate.model_validate(
        {"courier": courier.strip(), "tracking_number": tracking_number.strip()}
    )


def correction_body(rows: dict[str, dict[str, Any]]) -> CorrectionCreate:
    """The correction's body."""
    return CorrectionCreate.model_validate({"materials": rows})


def supplement_body(rows: dict[str, dict[str, Any]], via: str) -> SupplementCreate:
    """The supplement's body."""
    return SupplementCreate.model_validate({"materials": rows, "via": via})
