"""The printout of an e-license (电子证照打印件) as PDF: its disclosed fields, validity and status,
and the ``EL1:`` QR code a reader scans to verify it rather than trusting the paper."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm

from api.documents import labels
from api.documents.layout import Sheet, Trail, signed_events, when
from ledger.application import CaseLedger
from licenses.domain import License
from licenses.errors import mask_id
from licenses.model import LicenseState
from licenses.qr import encode_qr_text, qr_png

ISSUED = "case.LicenseIssued"
QR_SIZE = 52 * mm
# Enough pixels per module that the printed code stays sharp at QR_SIZE.
QR_SCALE = 10


def _type_name(ledger: CaseLedger, license_: License) -> str:
    for license_type in ledger.vault.types.by_code.values():
        if license_type.type_code == license_.license_type:
            return license_type.name
    return str(license_.fields.get("名称", license_.license_type))


def printout_pdf(ledger: CaseLedger, license_: License, generated_at: datetime) -> bytes:
    """The license printout with its QR code; the holder id appears only masked."""
    state = license_.status_at(generated_at)
    masked = mask_id(license_.holder_id)
    sheet = Sheet("电子证照打印件", _type_name(ledger, license_))
    sheet.rows(
        [
            ("证照名称", _type_name(ledger, license_)),
            ("证照编号", license_.license_id),
            ("证照类型代码", license_.license_type),
            ("持证主体", masked),
            ("签发机构", labels.department(license_.issuer)),
            ("签发时间", when(license_.issued_at)),
            ("有效期自（nbf）", when(license_.valid_from)),
            ("有效期至（exp）", when(license_.valid_to) if license_.valid_to else "长期有效"),
            ("证照版本", str(license_.license_version)),
            (
                "状态",
                f"{labels.LICENSE_STATE.get(state.value, state.value)}"
                f"（截至 {when(generated_at)}）",
            ),
            ("办件案件编号", str(license_.case_id)),
        ]
    )
    if state is not LicenseState.ACTIVE:
        sheet.text("注意：截至打印时本证照不处于有效状态，不能作为有效证照使用。")
    sheet.heading("证照信息")
    # A field holding the holder id is masked too: a printout never carries the full id.
    sheet.table(
        ("项目", "内容"),
        [
            (name, masked if str(value) == license_.holder_id else str(value))
            for name, value in license_.fields.items()
        ],
        (0.3, 0.7),
    )
    sheet.heading("核验二维码")
    sheet.image(qr_png(encode_qr_text(license_.credential), scale=QR_SCALE), QR_SIZE)
    sheet.text(
        "请扫描二维码核验，勿仅凭纸面信任：本打印件不是证照本身，纸面内容可被复制或篡改。"
        "二维码（EL1: 开头）载有签发机构签名的电子证照，请用核验终端或政务服务平台扫描，"
        "核验签名、信任列表和状态列表后再采信。"
    )
    case_events = signed_events(ledger, license_.case_id)
    trails = [
        Trail("案件", license_.case_id, [e for e in case_events if e.type == ISSUED]),
        Trail("电子证照", license_.id, signed_events(ledger, license_.id)),
    ]
    return sheet.render(trails, generated_at)
