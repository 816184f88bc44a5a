"""Policy functions behind the aggregates, and the material references of ``ledger.documents``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.actors import Actor, Channel, Role
from ledger.catalog import Handling, ItemType, SpecialStep
from ledger.catalog_data import load_sample_catalog
from ledger.documents import (
    ALLOWED_MEDIA_TYPES,
    APPLICANT_DAILY_UPLOAD_BYTES,
    DocumentRef,
    ELicenseRef,
    daily_upload_quota,
    material_data,
    material_ref_from_dict,
    missing_materials,
    notice_items,
)
from ledger.errors import (
    ActionNotPermitted,
    CommitmentDueAfterDeadline,
    DateInPast,
    DepartmentNotRequired,
    ELicenseMaterialDemanded,
    ELicenseNotAccepted,
    InvalidCommand,
    InvalidDocument,
    InvalidDueDate,
    InvalidServiceItem,
    InvalidTimestamp,
    MainMaterialMissing,
    MaterialNotTolerable,
    NothingToTolerate,
    OpinionAlreadyGiven,
    StepNotDeclared,
    UnknownMaterial,
    WrongDepartment,
)
from ledger.rules import (
    CHINA_TIME,
    INTAKE,
    STAFF,
    check_command,
    check_later_due,
    check_opinion,
    check_receipt_due,
    check_step,
    local_date,
    missing_approvals,
    parse_enum,
    require_not_past,
    require_role,
    require_text,
    require_texts,
    require_utc,
    tolerated_materials,
)

T0 = datetime(2018, 5, 2, 1, 0, tzinfo=UTC)
CATALOG = {terms.name: terms for terms in load_sample_catalog()}
PERMIT = CATALOG["建筑工程施工许可（工业建设项目并联审批）"]
REPLACEMENT = CATALOG["个体工商户营业执照遗失补领"]
DIGEST = "ab" * 32
OFFICER = Actor("officer.zjj", Role.OFFICER, "zjj")
APPLICANT = Actor("user.1", Role.APPLICANT)


def held(*without: str) -> list[str]:
    return [m.code for m in PERMIT.materials if m.code not in without]


# --- time -----------------------------------------------------------------------------------------


def test_utc_times_are_accepted_and_others_refused() -> None:
    assert require_utc(T0) is T0
    assert require_utc(datetime(2018, 5, 2, tzinfo=timezone(timedelta(0)))) is not None
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime, got datetime"):
        require_utc(datetime(2018, 5, 2))
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime"):
        require_utc(T0.astimezone(CHINA_TIME))
    with pytest.raises(InvalidTimestamp, match="got '2018-05-02'"):
        require_utc("2018-05-02")


def test_local_date_turns_at_midnight_china_time() -> None:
    assert local_date(datetime(2018, 5, 2, 15, 59, tzinfo=UTC)) == date(2018, 5, 2)
    assert local_date(datetime(2018, 5, 2, 16, 0, tzinfo=UTC)) == date(2018, 5, 3)


@given(st.datetimes(timezones=st.just(UTC)))
def test_local_date_is_the_utc_date_eight_hours_later(at: datetime) -> None:
    try:
        expected = (at + timedelta(hours=8)).date()
    except OverflowError:
        return
    assert local_date(at) == expected


def test_dates_before_the_local_day_are_in_the_past() -> None:
    assert require_not_past("due date", date(2018, 5, 2), T0) == date(2018, 5, 2)
    with pytest.raises(DateInPast, match="due date must be on or after 2018-05-02, got 2018-05-01"):
        require_not_past("due date", date(2018, 5, 1), T0)


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(InvalidCommand, match="due date must be a date, got datetime"):
        require_not_past("due date", T0, T0)


def test_later_due_dates_are_checked_strictly_or_not() -> None:
    current = date(2018, 7, 13)
    assert check_later_due(current, current, T0, strictly=False) == current
    assert check_later_due(date(2018, 5, 3), None, T0, strictly=True) == date(2018, 5, 3)
    with pytest.raises(InvalidDueDate, match="after the current 2018-07-13, got 2018-07-13"):
        check_later_due(current, current, T0, strictly=True)
    with pytest.raises(InvalidDueDate, match="on or after the current 2018-07-13, got 2018-07-12"):
        check_later_due(date(2018, 7, 12), current, T0, strictly=False)


def test_receipt_due_is_today_for_an_immediate_item_and_later_otherwise() -> None:
    assert check_receipt_due(REPLACEMENT, date(2018, 5, 2), T0) == date(2018, 5, 2)
    assert check_receipt_due(PERMIT, date(2018, 7, 13), T0) == date(2018, 7, 13)
    with pytest.raises(InvalidDueDate, match="immediate item is due on the receipt day"):
        check_receipt_due(REPLACEMENT, date(2018, 5, 3), T0)
    with pytest.raises(InvalidDueDate, match="commitment item .* is due after 2018-05-02"):
        check_receipt_due(PERMIT, date(2018, 5, 2), T0)


# --- arguments, roles, channels -------------------------------------------------------------------


def test_texts_must_be_non_blank() -> None:
    assert require_text("reason", "理由") == "理由"
    with pytest.raises(InvalidCommand, match="reason must be non-empty text, got '  '"):
        require_text("reason", "  ")
    with pytest.raises(InvalidCommand, match="reason must be non-empty text, got None"):
        require_text("reason", None)


def test_text_lists_are_lists_of_non_blank_texts() -> None:
    assert require_texts("reasons", ("a", "b")) == ["a", "b"]
    assert require_texts("reasons", [], allow_empty=True) == []
    with pytest.raises(InvalidCommand, match="reasons must list at least one reason"):
        require_texts("reasons", [])
    with pytest.raises(InvalidCommand, match="a list of texts, got the single text 'ab'"):
        require_texts("reasons", "ab")


def test_enum_values_parse_and_unknown_values_raise_the_given_error() -> None:
    assert parse_enum(SpecialStep, "hearing", "step") is SpecialStep.HEARING
    assert parse_enum(Handling, Handling.IMMEDIATE, "handling") is Handling.IMMEDIATE
    with pytest.raises(InvalidCommand, match=r"step must be one of \['site_inspection'"):
        parse_enum(SpecialStep, "dance", "step")
    with pytest.raises(InvalidServiceItem, match="type must be one of"):
        parse_enum(ItemType, 3, "type", InvalidServiceItem)


def test_roles_outside_the_allowed_set_are_refused_unless_acting_as_proxy() -> None:
    require_role("receive a case", OFFICER, STAFF)
    proxy = Actor("officer.zwzx", Role.OFFICER, "zwzx", on_behalf_of="user.1")
    require_role("rate a case", proxy, {Role.APPLICANT}, proxy=True)
    with pytest.raises(ActionNotPermitted, match=r"'applicant' may not receive .* \['officer'\]"):
        require_role("receive a case", APPLICANT, STAFF)
    with pytest.raises(ActionNotPermitted, match="'officer' may not rate a case"):
        require_role("rate a case", OFFICER, {Role.APPLICANT}, proxy=True)


def test_commands_need_an_actor_and_a_channel() -> None:
    check_command("submit", at=T0, actor=APPLICANT, channel=Channel.ONLINE, roles=INTAKE)
    with pytest.raises(InvalidCommand, match="actor must be an Actor, got dict"):
        check_command(
            "submit", at=T0, actor={"principal": "x"}, channel=Channel.ONLINE, roles=INTAKE
        )
    with pytest.raises(InvalidCommand, match="channel must be a Channel, got 'online'"):
        check_command("submit", at=T0, actor=APPLICANT, channel="online", roles=INTAKE)


# --- materials and tolerance ----------------------------------------------------------------------


def test_missing_materials_are_split_into_main_and_secondary_in_catalog_order() -> None:
    assert missing_materials(PERMIT, held()) == ([], [])
    assert missing_materials(PERMIT, held("zljd", "sqb", "rfsj")) == (["sqb"], ["rfsj", "zljd"])


def test_material_data_accepts_documents_and_allowed_e_licenses() -> None:
    supplied: dict[str, Any] = {"sqb": DocumentRef(DIGEST, 1, "application/ofd")}
    supplied["aqxk"] = ELicenseRef("AQ-2018-1")
    assert material_data(PERMIT, supplied) == {
        "sqb": {"kind": "document", "sha256": DIGEST, "size": 1, "media_type": "application/ofd"},
        "aqxk": {"kind": "e_license", "license_id": "AQ-2018-1"},
    }


def test_material_data_refuses_other_values_unknown_codes_and_e_licenses_not_allowed() -> None:
    with pytest.raises(InvalidCommand, match="'sqb' must be a DocumentRef or ELicenseRef, got str"):
        material_data(PERMIT, {"sqb": "scan.pdf"})
    with pytest.raises(UnknownMaterial, match="no material 'x'"):
        material_data(PERMIT, {"x": DocumentRef(DIGEST, 1, "image/png")})
    with pytest.raises(ELicenseNotAccepted, match="'sght' accepts no e-license"):
        material_data(PERMIT, {"sght": ELicenseRef("HT-1")})


def test_notice_items_keep_each_reason_and_refuse_e_license_materials() -> None:
    assert notice_items(PERMIT, {}, {"sght": "未盖章"}) == [
        {"material": "sght", "reason": "未盖章"}
    ]
    licensed = {"ghxkz": ELicenseRef("GH-1").as_dict()}
    with pytest.raises(ELicenseMaterialDemanded, match="expected it not to be demanded"):
        notice_items(PERMIT, licensed, {"ghxkz": "请提供复印件"})


def test_tolerance_names_the_tolerable_missing_materials() -> None:
    committed = tolerated_materials(
        PERMIT, held("zjls", "aqxk"), commitment_due=date(2018, 5, 20), due=date(2018, 7, 13), at=T0
    )
    assert committed == ["zjls", "aqxk"]


def test_tolerance_refusals_put_a_missing_main_material_first() -> None:
    kwargs: dict[str, Any] = {
        "commitment_due": date(2018, 5, 20),
        "due": date(2018, 7, 13),
        "at": T0,
    }
    with pytest.raises(MainMaterialMissing, match=r"got missing \['sqb'\]"):
        tolerated_materials(PERMIT, held("sqb", "rfsj"), **kwargs)
    with pytest.raises(MaterialNotTolerable, match=r"got non-tolerable \['rfsj'\]"):
        tolerated_materials(PERMIT, held("rfsj", "zjls"), **kwargs)
    with pytest.raises(NothingToTolerate, match="every material is present"):
        tolerated_materials(PERMIT, held(), **kwargs)


def test_commitment_due_must_lie_between_today_and_the_deadline() -> None:
    with pytest.raises(CommitmentDueAfterDeadline, match="deadline 2018-07-13, got 2018-07-14"):
        tolerated_materials(
            PERMIT, held("zjls"), commitment_due=date(2018, 7, 14), due=date(2018, 7, 13), at=T0
        )
    with pytest.raises(DateInPast, match="commitment due date must be on or after 2018-05-02"):
        tolerated_materials(
            PERMIT, held("zjls"), commitment_due=date(2018, 5, 1), due=date(2018, 7, 13), at=T0
        )


# --- reviews and special steps --------------------------------------------------------------------


def test_opinions_come_once_from_a_required_departments_own_officer() -> None:
    check_opinion(PERMIT, set(), department="zjj", approve=True, actor=OFFICER)
    with pytest.raises(DepartmentNotRequired, match="got 'scjgj'"):
        check_opinion(PERMIT, set(), department="scjgj", approve=True, actor=OFFICER)
    with pytest.raises(WrongDepartment, match="of 'xfjy' is given by its own officer"):
        check_opinion(PERMIT, set(), department="xfjy", approve=True, actor=OFFICER)
    with pytest.raises(OpinionAlreadyGiven, match="'zjj' already gave its opinion"):
        check_opinion(PERMIT, {"zjj"}, department="zjj", approve=True, actor=OFFICER)
    with pytest.raises(InvalidCommand, match="approve must be a bool, got 'yes'"):
        check_opinion(PERMIT, set(), department="zjj", approve="yes", actor=OFFICER)


def test_missing_approvals_list_the_lead_first_and_count_rejections_as_missing() -> None:
    assert missing_approvals(PERMIT, {}) == ["zjj", "zrzyghj", "xfjy", "rfb"]
    approvals = {"zjj": True, "zrzyghj": True, "xfjy": False, "rfb": True}
    assert missing_approvals(PERMIT, approvals) == ["xfjy"]
    assert missing_approvals(PERMIT, approvals | {"xfjy": True}) == []


def test_only_declared_special_steps_may_suspend_a_case() -> None:
    check_step(PERMIT, SpecialStep.EXPERT_REVIEW)
    with pytest.raises(StepNotDeclared, match="got 'hearing'"):
        check_step(PERMIT, SpecialStep.HEARING)


# --- document and e-license references ------------------------------------------------------------


@given(st.binary(min_size=32, max_size=32), st.integers(min_value=1, max_value=2**40))
def test_document_refs_round_trip_through_event_data(digest: bytes, size: int) -> None:
    ref = DocumentRef(digest.hex(), size, "application/pdf")
    assert material_ref_from_dict(ref.as_dict()) == ref


@pytest.mark.parametrize(
    ("sha256", "size", "media_type", "match"),
    [
        ("AB" * 32, 1, "application/pdf", "64 lowercase hex characters"),
        ("ab" * 31, 1, "application/pdf", "64 lowercase hex characters"),
        (DIGEST, 0, "application/pdf", "positive int of bytes, got 0"),
        (DIGEST, True, "application/pdf", "positive int of bytes, got True"),
        (DIGEST, 1, "application/x-msdownload", "media type must be one of"),
    ],
)
def test_bad_document_refs_are_refused(sha256: str, size: int, media_type: str, match: str) -> None:
    with pytest.raises(InvalidDocument, match=match):
        DocumentRef(sha256, size, media_type)


def test_ofd_and_pdf_are_allowed_media_types() -> None:
    assert {"application/ofd", "application/pdf", "image/jpeg", "image/png"} <= ALLOWED_MEDIA_TYPES


@pytest.mark.parametrize("license_id", ["", " GH-1", "GH\n1", "x" * 129])
def test_bad_e_license_ids_are_refused(license_id: str) -> None:
    with pytest.raises(InvalidCommand, match="e-license id must be 1-128 printable characters"):
        ELicenseRef(license_id)


def test_reference_data_of_an_unknown_kind_is_refused() -> None:
    assert material_ref_from_dict({"kind": "e_license", "license_id": "A"}) == ELicenseRef("A")
    with pytest.raises(InvalidCommand, match="kind must be 'document' or 'e_license', got 'paper'"):
        material_ref_from_dict({"kind": "paper"})


def test_only_applicants_have_a_daily_upload_quota() -> None:
    assert daily_upload_quota(Role.APPLICANT) == APPLICANT_DAILY_UPLOAD_BYTES
    assert daily_upload_quota(Role.APPLICANT, 10) == 10
    assert all(daily_upload_quota(r) is None for r in Role if r is not Role.APPLICANT)
