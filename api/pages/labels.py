"""The Simplified Chinese labels of the codes pages show: case and license states, verification
outcomes and steps, queue actions, license uses, event types, supervision findings and the kinds
of an item's materials."""

from __future__ import annotations

# The documents print the same license states: one table serves both.
from api.documents.labels import LICENSE_STATE as LICENSE_STATE

ROLE = {
    "applicant": "申请人",
    "officer": "窗口及审批人员",
    "verifier": "核验人员",
    "auditor": "审计人员",
    "courier": "寄递人员",
    "admin": "管理员",
    "system": "系统",
}
CASE_STATUS = {
    "submitted": "已提交",
    "awaiting_correction": "待补正",
    "paused_for_correction": "补正中（计时暂停）",
    "refused": "不予受理",
    "received": "已受理",
    "suspended": "特殊环节（计时暂停）",
    "decided": "已决定",
    "issued": "已出证",
    "dispatched": "已寄出",
    "delivered": "已送达",
    "closed": "已办结",
    "withdrawn": "已撤回",
}
VERIFICATION_STATUS = {
    "valid": "核验通过：证照有效",
    "invalid": "核验未通过：证照内容或签名无效",
    "malformed": "核验未通过：二维码或证照格式有误",
    "unknown_issuer": "核验未通过：签发机构不在信任列表或证照不在本库",
    "key_not_allowed": "核验未通过：签名密钥无权签发此类证照",
    "expired": "核验未通过：证照已过期",
    "not_yet_valid": "核验未通过：证照尚未生效",
    "revoked": "核验未通过：证照已注销",
    "suspended": "核验未通过：证照已暂停",
    "status_outdated": "核验未通过：证照状态列表已过时，请取得新的状态列表后重试",
    "rejected": "核验未通过：不符合核验规则",
}
STEP = {
    1: "前缀",
    2: "Base45 解码",
    3: "zlib 解压",
    4: "严格 CBOR",
    5: "COSE 结构",
    6: "密钥标识与信任列表",
    7: "签名算法",
    8: "签名",
    9: "签发时密钥有效",
    10: "密钥可签此类证照",
    11: "有效期",
    12: "证照状态",
    13: "核验规则",
}
ACTION = {
    "opinion": "出具审查意见",
    "decide": "作出决定",
    "resume": "恢复计时",
    "issue": "制发证照",
    "close": "办结",
    "receive": "窗口受理",
    "dispatch": "送达",
}
USE_KIND = {"verify": "核验证照", "shared-view": "共享查阅"}
USE_RESULT = {
    "valid": "有效",
    "invalid": "无效",
    "malformed": "格式有误",
    "unknown_issuer": "签发机构未知",
    "key_not_allowed": "密钥无权签发",
    "expired": "已过期",
    "not_yet_valid": "尚未生效",
    "revoked": "已注销",
    "suspended": "已暂停",
    "status_outdated": "状态列表过时",
    "rejected": "不符合规则",
    "read": "已查阅",
    "none": "无可共享证照",
}
EVENT = {
    "case.Submitted": "提交申请",
    "case.Received": "受理",
    "case.Refused": "不予受理",
    "case.CorrectionNotified": "一次性告知补正",
    "case.Corrected": "补正材料",
    "case.AcceptedWithTolerance": "容缺受理",
    "case.Supplemented": "补齐承诺材料",
    "case.OpinionGiven": "审查意见",
    "case.Transferred": "转报",
    "case.Suspended": "特殊环节（暂停计时）",
    "case.Resumed": "恢复计时",
    "case.Extended": "延长时限",
    "case.Decided": "作出决定",
    "case.LicenseIssued": "制发电子证照",
    "case.Dispatched": "寄出",
    "case.Delivered": "送达",
    "case.PickedUpAtWindow": "窗口领取",
    "case.VisitRecorded": "到场记录",
    "case.Closed": "办结",
    "case.Withdrawn": "撤回",
    "case.Rated": "好差评",
}
MATERIAL_KIND = {"main": "主件", "secondary": "副件"}
CHANNEL = {"online": "网上", "window": "窗口", "courier": "寄递", "system": "系统"}
FINDING = {
    "overdue": "超期未办结",
    "second_notice": "二次告知",
    "refused_attempt": "被拒绝的违规操作",
    "extra_visits": "超过到场次数",
    "overdue_commitment": "承诺材料逾期未补",
}

KEY_ROLE = {
    "root": "根密钥（平台）",
    "department-seal": "部门电子印章",
    "intake": "网上受理",
    "courier": "寄递",
    "log": "透明日志",
    "issuer": "证照签发",
}

KEY_STATE = {
    "active": "有效",
    "retiring": "过渡期（已更换，即将停用）",
    "rotated": "已停用（已更换）",
    "revoked": "已吊销",
    "expired": "已过期",
    "not-yet-valid": "尚未生效",
}
