"""The documents of a case as PDF: the receipt (受理回执), the one-time correction notice
(一次性告知书), the refusal notice (不予受理通知书) and the decision (决定书), each drawn from the
signed events that made it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from api.documents import labels
from api.documents.layout import Sheet, Trail, day, signed_events, when
from api.errors import ApiProblem
from ledger.application import CaseLedger
from ledger.case import Case
from ledger.catalog_terms import ItemType
from ledger.documents import DocumentRef, ELicenseRef, MaterialRef
from ledger.errors import UnknownCase
from ledger.timeline import TimelineEntry
from licenses.errors import mask_id

RECEIPTS = ("case.Received", "case.AcceptedWithTolerance")
NOTICE = "case.CorrectionNotified"
REFUSAL = "case.Refused"
OPINION = "case.OpinionGiven"
DECISION = "case.Decided"


def not_issued(detail: str) -> ApiProblem:
    """The 404 for a document the case does not have (yet): not received, notified, refused,
    decided."""
    return ApiProblem(404, "document-not-issued", "The case has no such document yet", detail)


def _first(entries: Sequence[TimelineEntry], *types: str) -> TimelineEntry | None:
    return next((e for e in entries if e.type in types), None)


def _case_rows(case: Case) -> list[tuple[str, str]]:
    holder, kind = case.applicant
    terms = case.terms
    return [
        ("案件编号", str(case.id)),
        ("事项名称", terms.name),
        ("事项编码", f"实施编码 {terms.implementation_code}；基本编码 {terms.basic_code}"),
        ("申请人", f"{mask_id(holder)}（{labels.HOLDER_KIND.get(kind.value, kind.value)}）"),
    ]


def _held(ref: MaterialRef | None, committed: bool, commitment_due: str) -> str:
    if isinstance(ref, ELicenseRef):
        return f"以电子证照 {ref.license_id} 代替，免交纸质材料"
    if isinstance(ref, DocumentRef):
        return f"已收取（{ref.media_type}，{ref.size} 字节，SHA-256 {ref.sha256[:16]}…）"
    if committed:
        return f"容缺受理，申请人承诺于 {commitment_due} 前补齐"
    return "未收取"


def _deadline(case: Case) -> str:
    terms = case.terms
    statutory = f"（法定时限 {terms.statutory_days} 个工作日）"
    if terms.is_immediate:
        return f"即办件，受理当日（{day(case.due)}）办结{statutory}"
    return f"{terms.promised_days} 个工作日，{day(case.due)}前办结{statutory}"


def _as_of(ledger: CaseLedger, case: Case, version: int) -> Case:
    """The case as the event at ``version`` left it (the receipt shows what was received then)."""
    found: Any = ledger.repository.get(case.id, version=version)
    if not isinstance(found, Case):
        raise UnknownCase(f"{case.id} is not a case")
    return found


def receipt_pdf(ledger: CaseLedger, case: Case, generated_at: datetime) -> bytes:
    """The receipt (受理回执) of a received case, as the case stood when it was received."""
    entries = signed_events(ledger, case.id)
    event = _first(entries, *RECEIPTS)
    if event is None:
        raise not_issued(f"case {case.id} has not been received, so it has no receipt")
    then = _as_of(ledger, case, event.seq)
    terms = then.terms
    committed = set(then.open_commitments)
    commitment_due = day(then.commitment_due)
    sheet = Sheet("受理回执", f"受理编号：{then.receipt_number}")
    sheet.rows(
        [
            ("受理编号", then.receipt_number or "—"),
            *_case_rows(then),
            ("受理时间", when(event.at)),
            ("受理部门", labels.department(event.actor.get("department"))),
            ("受理人员", labels.officer(event.actor)),
            ("承诺办结时限", _deadline(then)),
            ("到场次数目标", labels.visit_target(then.visit_target)),
        ]
    )
    sheet.heading("收取材料")
    held = then.materials
    sheet.table(
        ("材料", "类别", "收取情况"),
        [
            (
                m.name,
                labels.material_kind(m),
                _held(held.get(m.code), m.code in committed, commitment_due),
            )
            for m in terms.materials
        ],
        (0.38, 0.17, 0.45),
    )
    if committed:
        sheet.heading("容缺受理")
        names = "、".join(m.name for m in terms.materials if m.code in committed)
        sheet.rows(
            [
                ("容缺材料", names),
                ("申请人承诺", str(event.data.get("commitment") or "—")),
                ("承诺补齐日期", commitment_due),
            ]
        )
        sheet.text("容缺材料补齐前不予制发证照；审查照常进行。", "small")
    sheet.space()
    sheet.text(
        "办理时限自受理之日起按工作日计算；一次性告知补正及现场踏勘等特殊环节所需时间不计入。"
        "可凭受理编号或案件编号在网上查询办理进度。"
    )
    # The state at the receipt was built from every event up to it, so all of them are sources.
    trail = Trail("案件", case.id, [e for e in entries if e.seq <= event.seq])
    return sheet.render([trail], generated_at)


def correction_notice_pdf(ledger: CaseLedger, case: Case, generated_at: datetime) -> bytes:
    """The one-time correction notice (一次性告知书) the case was given, if it was given one."""
    entries = signed_events(ledger, case.id)
    event = _first(entries, NOTICE)
    if event is None:
        raise not_issued(f"case {case.id} was given no correction notice")
    terms = case.terms
    received_first = _first([e for e in entries if e.seq < event.seq], *RECEIPTS)
    items: list[dict[str, str]] = list(event.data.get("items") or [])
    sheet = Sheet("补正材料一次性告知书")
    sheet.rows(
        [
            *_case_rows(case),
            ("告知时间", when(event.at)),
            ("告知部门", labels.department(event.actor.get("department"))),
            ("告知人员", labels.officer(event.actor)),
        ]
    )
    sheet.heading("需补正的材料")
    sheet.table(
        ("材料", "类别", "补正原因"),
        [
            (
                terms.material(i["material"]).name,
                labels.material_kind(terms.material(i["material"])),
                i["reason"],
            )
            for i in items
        ],
        (0.38, 0.17, 0.45),
    )
    sheet.heading("告知内容")
    sheet.text(str(event.data.get("text") or "—"))
    sheet.space()
    sheet.text(
        "本告知书为一次性告知：需补正的材料已全部列明，本机关不再以其他理由要求补正其他材料。"
        "本次告知已签名记入办件账本，二次告知将被拒绝并由电子监察记录。"
    )
    if received_first is not None:
        sheet.text("本案已受理：补正期间办理时限暂停计算，补正后恢复。", "small")
    sheet.text("补正材料可通过网上提交，无需再次到场。", "small")
    trail = Trail("案件", case.id, [entries[0], event])
    return sheet.render([trail], generated_at)


def refusal_notice_pdf(ledger: CaseLedger, case: Case, generated_at: datetime) -> bytes:
    """The refusal notice (不予受理通知书) of a case refused at intake: its reasons, the legal
    basis, the right to reconsideration or a lawsuit (《行政许可法》第三十二条)."""
    entries = signed_events(ledger, case.id)
    event = _first(entries, REFUSAL)
    if event is None:
        raise not_issued(f"case {case.id} was not refused, so it has no refusal notice")
    submitted = entries[0]
    holder, _ = case.applicant
    reasons = [str(r) for r in event.data.get("reasons") or []]
    legal_basis = str(event.data.get("legal_basis") or "—")
    sheet = Sheet("不予受理通知书", f"案件编号：{case.id}")
    sheet.rows(
        [
            *_case_rows(case),
            ("申请时间", when(submitted.at)),
            ("决定", "不予受理"),
            ("决定部门", labels.department(event.actor.get("department"))),
            ("决定人员", labels.officer(event.actor)),
            ("决定时间", when(event.at)),
        ]
    )
    sheet.space()
    sheet.text(
        f"申请人 {mask_id(holder)} 于 {when(submitted.at)} 申请的“{case.terms.name}”事项，"
        f"经审查，依据{legal_basis}，决定不予受理。"
    )
    sheet.heading("不予受理的理由")
    for number, reason in enumerate(reasons, 1):
        sheet.text(f"{number}. {reason}")
    sheet.heading("法律依据")
    sheet.rows([("不予受理依据", legal_basis), ("事项设定依据", "；".join(case.terms.legal_basis))])
    sheet.space()
    sheet.text(
        "申请人如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
        "或者在六个月内依法提起行政诉讼。"
    )
    sheet.text("不予受理的情形消除后，申请人可以重新提出申请。")
    sheet.text("申请事项依法不属于本机关职权范围的，申请人应当向有关行政机关申请。", "small")
    trail = Trail("案件", case.id, [submitted, event])
    return sheet.render([trail], generated_at)


def decision_pdf(ledger: CaseLedger, case: Case, generated_at: datetime) -> bytes:
    """The decision (决定书) of a decided case: grant or denial, reasons and legal basis."""
    decision = case.decision
    entries = signed_events(ledger, case.id)
    event = _first(entries, DECISION)
    if decision is None or event is None:
        raise not_issued(f"case {case.id} has not been decided")
    terms = case.terms
    holder, _ = case.applicant
    verdict = "准予" if decision.grant else "不予"
    kind = "行政许可" if terms.item_type is ItemType.LICENSING else "办理"
    sheet = Sheet(f"{verdict}{kind}决定书", f"受理编号：{case.receipt_number}")
    sheet.rows(
        [
            ("受理编号", case.receipt_number or "—"),
            *_case_rows(case),
            ("决定", f"{verdict}{kind}"),
            ("决定部门", labels.department(event.actor.get("department"))),
            ("决定人员", labels.officer(event.actor)),
            ("决定时间", when(decision.at)),
        ]
    )
    sheet.space()
    meets = "符合" if decision.grant else "不符合"
    sheet.text(
        f"申请人 {mask_id(holder)} 申请的“{terms.name}”事项，经审查，{meets}法定条件、标准。"
        f"依据{decision.legal_basis}，决定{verdict}{kind}。"
    )
    sheet.heading("理由")
    for number, reason in enumerate(decision.reasons, 1):
        sheet.text(f"{number}. {reason}")
    if not decision.reasons:
        sheet.text("决定未另附理由。")
    sheet.heading("法律依据")
    sheet.rows(
        [
            ("决定依据", decision.legal_basis),
            ("事项设定依据", "；".join(terms.legal_basis)),
        ]
    )
    opinions = [e for e in entries if e.type == OPINION and e.seq < event.seq]
    if opinions:
        sheet.heading("审查意见")
        sheet.table(
            ("部门", "意见", "理由", "时间"),
            [
                (
                    labels.department(str(e.data.get("department"))),
                    "同意" if e.data.get("approve") else "不同意",
                    "；".join(e.data.get("reasons") or []) or "—",
                    when(e.at),
                )
                for e in opinions
            ],
            (0.3, 0.1, 0.35, 0.25),
        )
    if not decision.grant:
        sheet.space()
        sheet.text(
            "申请人如对本决定不服，可以自收到本决定书之日起六十日内依法申请行政复议，"
            "或者在六个月内依法提起行政诉讼。"
        )
    receipt = _first(entries, *RECEIPTS)  # the receipt number printed above comes from it
    cited = [entries[0], *([receipt] if receipt else []), *opinions, event]
    trail = Trail("案件", case.id, cited)
    return sheet.render([trail], generated_at)
