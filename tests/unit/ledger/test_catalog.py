"""The versioned service catalog: item terms, validation, versions in force, sample data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ledger.actors import Actor, Channel, Role
from ledger.catalog import (
    Fee,
    Handling,
    ItemTerms,
    ItemType,
    Material,
    MaterialKind,
    ReformStatus,
    ServiceItem,
    SpecialStep,
)
from ledger.catalog_data import (
    load_sample_catalog,
    load_sample_departments,
    load_sample_license_types,
)
from ledger.errors import (
    ActionNotPermitted,
    CatalogVersionMismatch,
    EffectiveDateRejected,
    InvalidCommand,
    InvalidServiceItem,
    InvalidTimestamp,
    ItemWithdrawn,
    NoTermsInForce,
    PromisedTimeIncreased,
    UnknownMaterial,
)
from ledger.rules import CHINA_TIME

T0 = datetime(2018, 3, 1, 1, 0, tzinfo=UTC)
ADMIN = Actor("catalog-admin", Role.ADMIN)
EDIT: dict[str, Any] = {"actor": ADMIN, "channel": Channel.SYSTEM}


def make_terms(**changes: Any) -> ItemTerms:
    """Food business license terms with a main, a tolerable and a non-tolerable material."""
    terms = ItemTerms(
        implementation_code="11512000MB1578349K000112004000",
        basic_code="000112004000",
        version=1,
        effective_from=T0,
        name="食品经营许可",
        name_en="Food business license",
        item_type=ItemType.LICENSING,
        lead_department="scjgj",
        legal_basis=("《中华人民共和国食品安全法》第三十五条",),
        materials=(
            Material(code="sqs", name="申请书", kind=MaterialKind.MAIN),
            Material(code="glzd", name="规章制度", kind=MaterialKind.SECONDARY, tolerable=True),
            Material(code="wtsh", name="委托书", kind=MaterialKind.SECONDARY),
        ),
        statutory_days=20,
        promised_days=10,
        handling=Handling.COMMITMENT,
        visit_target=1,
        reform_status=ReformStatus.ACHIEVED,
        special_steps=(SpecialStep.SITE_INSPECTION,),
        fees=(Fee(name="工本费", amount=Decimal("10.00"), basis="示例"),),
    )
    return replace(terms, **changes)


def published(**changes: Any) -> ServiceItem:
    item = ServiceItem.publish(make_terms(**changes), at=T0, **EDIT)
    item.collect_events()
    return item


def assert_nothing_recorded(item: ServiceItem, version: int) -> None:
    assert item.collect_events() == []
    assert item.version == version


# --- item terms -------------------------------------------------------------------------------


def test_terms_round_trip_through_plain_data() -> None:
    terms = make_terms(joint_departments=("xfjy",), conditions=("有经营场所",), notes="备注")
    assert ItemTerms.from_dict(terms.as_dict()) == terms


def test_terms_from_data_accept_iso_text_for_effective_time() -> None:
    data = make_terms().as_dict() | {"effective_from": "2018-03-01T01:00:00+00:00"}
    assert ItemTerms.from_dict(data) == make_terms()


def test_terms_as_plain_data_hold_lists_and_enum_values_only() -> None:
    data = make_terms().as_dict()
    assert data["item_type"] == "行政许可" and type(data["item_type"]) is str
    assert isinstance(data["materials"], list) and isinstance(data["legal_basis"], list)
    assert data["fees"] == [{"name": "工本费", "amount": "10.00", "basis": "示例"}]


def test_required_departments_are_the_lead_then_the_joint_reviewers() -> None:
    terms = make_terms(joint_departments=("zrzyghj", "xfjy"))
    assert terms.required_departments == ("scjgj", "zrzyghj", "xfjy")


def test_material_lookup_refuses_an_unknown_code() -> None:
    with pytest.raises(UnknownMaterial, match=r"no material 'nope', expected one of \['sqs'"):
        make_terms().material("nope")


def test_main_material_marked_tolerable_is_refused() -> None:
    with pytest.raises(InvalidServiceItem, match="only a secondary material may be tolerable"):
        Material(code="sqs", name="申请书", kind=MaterialKind.MAIN, tolerable=True)


def test_secondary_material_may_be_tolerable_and_satisfied_by_an_e_license() -> None:
    material = Material(
        code="yyzz",
        name="营业执照复印件",
        kind=MaterialKind.SECONDARY,
        tolerable=True,
        e_license_type="yyzz",
    )
    assert Material.from_dict(material.as_dict()) == material
    assert not material.is_main


def test_repeated_material_codes_are_refused() -> None:
    twice = (
        Material(code="sqs", name="申请书", kind=MaterialKind.MAIN),
        Material(code="sqs", name="申请书", kind=MaterialKind.MAIN),
    )
    with pytest.raises(InvalidServiceItem, match=r"unique, got repeated \['sqs'\]"):
        make_terms(materials=twice)


def test_zero_visit_item_may_not_need_an_original_check() -> None:
    checked = (Material(code="sfzm", name="身份证明", kind=MaterialKind.MAIN, original_check=True),)
    with pytest.raises(InvalidServiceItem, match=r"zero-visit .* got original_check on \['sfzm'\]"):
        make_terms(visit_target=0, materials=checked)


def test_zero_visit_item_without_original_checks_is_accepted() -> None:
    assert make_terms(visit_target=0).visit_target == 0


@pytest.mark.parametrize("target", [2, -1])
def test_visit_target_above_one_or_negative_is_refused(target: int) -> None:
    with pytest.raises(InvalidServiceItem, match=f"visit target must be 0 or 1, got {target}"):
        make_terms(visit_target=target)


def test_promised_days_above_statutory_days_are_refused() -> None:
    with pytest.raises(InvalidServiceItem, match="not exceed statutory days 20, got 21"):
        make_terms(promised_days=21)


def test_immediate_item_must_promise_zero_days() -> None:
    with pytest.raises(InvalidServiceItem, match="got immediate item with 10"):
        make_terms(handling=Handling.IMMEDIATE)
    assert make_terms(handling=Handling.IMMEDIATE, promised_days=0).is_immediate


def test_commitment_item_must_promise_at_least_one_day() -> None:
    with pytest.raises(InvalidServiceItem, match="got commitment item with 0"):
        make_terms(promised_days=0)


def test_lead_department_listed_as_joint_reviewer_is_refused() -> None:
    with pytest.raises(InvalidServiceItem, match=r"exclude the lead 'scjgj', got \['scjgj'\]"):
        make_terms(joint_departments=("scjgj",))


def test_item_without_legal_basis_is_refused() -> None:
    with pytest.raises(InvalidServiceItem, match=r"must cite a legal basis \(设定依据\), got none"):
        make_terms(legal_basis=())


def test_naive_effective_time_is_refused() -> None:
    with pytest.raises(InvalidServiceItem, match="effective_from .* aware UTC datetime"):
        make_terms(effective_from=datetime(2018, 3, 1))


def test_negative_fee_is_refused() -> None:
    with pytest.raises(InvalidServiceItem, match="fee '工本费' must be a Decimal >= 0"):
        Fee(name="工本费", amount=Decimal("-1"))


def test_terms_data_with_an_unknown_item_type_is_refused() -> None:
    data = make_terms().as_dict() | {"item_type": "行政奖励"}
    with pytest.raises(InvalidServiceItem, match="item_type of .* got '行政奖励'"):
        ItemTerms.from_dict(data)


def test_terms_data_missing_a_field_is_refused() -> None:
    data = make_terms().as_dict()
    del data["materials"]
    with pytest.raises(InvalidServiceItem, match=r"lack the fields \['materials'\]"):
        ItemTerms.from_dict(data)


# --- publishing -------------------------------------------------------------------------------


def test_publish_records_version_one_keyed_by_the_implementation_code() -> None:
    item = ServiceItem.publish(make_terms(), at=T0, **EDIT)
    events = item.collect_events()
    assert [type(e).__name__ for e in events] == ["Published"]
    assert item.id == ServiceItem.create_id(make_terms().implementation_code)
    assert item.current == make_terms() and item.versions == (make_terms(),)
    assert item.modified_on == T0


def test_publish_refuses_terms_not_numbered_version_one() -> None:
    with pytest.raises(CatalogVersionMismatch, match="published as version 1, got 2"):
        ServiceItem.publish(make_terms(version=2), at=T0, **EDIT)


def test_publish_refuses_a_naive_command_time() -> None:
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime"):
        ServiceItem.publish(make_terms(), at=datetime(2018, 3, 1), **EDIT)


def test_publish_refuses_a_time_in_another_zone() -> None:
    beijing = T0.astimezone(CHINA_TIME)
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime"):
        ServiceItem.publish(make_terms(), at=beijing, **EDIT)


def test_publish_by_an_applicant_is_not_permitted() -> None:
    applicant = Actor("zhang.san", Role.APPLICANT)
    with pytest.raises(ActionNotPermitted, match="role 'applicant' may not publish"):
        ServiceItem.publish(make_terms(), at=T0, actor=applicant, channel=Channel.ONLINE)


# --- versions in force ------------------------------------------------------------------------


def test_terms_before_the_first_version_are_not_in_force() -> None:
    with pytest.raises(NoTermsInForce, match="in force from 2018-03-01 01:00:00"):
        published().terms_at(T0 - timedelta(seconds=1))


def test_terms_at_returns_the_version_in_force_at_each_time() -> None:
    item = published()
    later = T0 + timedelta(days=30)
    item.amend(make_terms(version=2, effective_from=later, promised_days=8), at=T0, **EDIT)
    assert item.terms_at(T0).version == 1
    assert item.terms_at(later - timedelta(microseconds=1)).version == 1
    assert item.terms_at(later).version == 2
    assert item.terms_at(later + timedelta(days=365)).promised_days == 8


def test_terms_at_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime"):
        published().terms_at(datetime(2018, 3, 2))


# --- amendment --------------------------------------------------------------------------------


def test_amend_records_the_next_version() -> None:
    item = published()
    item.amend(make_terms(version=2, effective_from=T0 + timedelta(days=1)), at=T0, **EDIT)
    [amended] = item.collect_events()
    assert type(amended).__name__ == "Amended"
    assert amended.terms["version"] == 2  # type: ignore[attr-defined]
    assert [t.version for t in item.versions] == [1, 2]


def test_amend_refuses_an_effective_time_not_after_the_previous_version() -> None:
    item = published(effective_from=T0 + timedelta(days=10))
    with pytest.raises(EffectiveDateRejected, match="must be after version 1's"):
        item.amend(make_terms(version=2, effective_from=T0 + timedelta(days=10)), at=T0, **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_refuses_a_retroactive_effective_time() -> None:
    item = published()
    at = T0 + timedelta(days=5)
    with pytest.raises(EffectiveDateRejected, match="must not precede the command time"):
        item.amend(make_terms(version=2, effective_from=T0 + timedelta(days=1)), at=at, **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_refuses_a_skipped_version_number() -> None:
    item = published()
    with pytest.raises(CatalogVersionMismatch, match="expected version 2 of .* got version 3"):
        item.amend(make_terms(version=3, effective_from=T0 + timedelta(days=1)), at=T0, **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_refuses_terms_of_another_item() -> None:
    item = published()
    other = make_terms(
        version=2, effective_from=T0 + timedelta(days=1), implementation_code="OTHER"
    )
    with pytest.raises(CatalogVersionMismatch, match="got version 2 of OTHER"):
        item.amend(other, at=T0, **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_refuses_a_longer_promised_time_without_a_reason() -> None:
    item = published()
    longer = make_terms(version=2, effective_from=T0 + timedelta(days=1), promised_days=12)
    with pytest.raises(PromisedTimeIncreased, match="stay or fall from 10 .* got 12"):
        item.amend(longer, at=T0, **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_accepts_a_longer_promised_time_with_a_stated_reason() -> None:
    item = published()
    longer = make_terms(version=2, effective_from=T0 + timedelta(days=1), promised_days=12)
    item.amend(longer, at=T0, promise_increase_reason="法律修改增加听证程序", **EDIT)
    [amended] = item.collect_events()
    assert amended.promise_increase_reason == "法律修改增加听证程序"  # type: ignore[attr-defined]
    assert item.current.promised_days == 12


def test_amend_refuses_a_blank_promise_increase_reason() -> None:
    item = published()
    longer = make_terms(version=2, effective_from=T0 + timedelta(days=1), promised_days=12)
    with pytest.raises(InvalidCommand, match="promise increase reason must be non-empty"):
        item.amend(longer, at=T0, promise_increase_reason=" ", **EDIT)
    assert_nothing_recorded(item, 1)


def test_amend_refuses_a_command_time_before_the_last_event() -> None:
    item = published()
    with pytest.raises(InvalidTimestamp, match="must not precede the last event"):
        item.amend(
            make_terms(version=2, effective_from=T0 + timedelta(days=1)),
            at=T0 - timedelta(seconds=1),
            **EDIT,
        )
    assert_nothing_recorded(item, 1)


# --- withdrawal -------------------------------------------------------------------------------


def test_withdrawn_item_has_no_terms_from_the_withdrawal_time() -> None:
    item = published()
    gone = T0 + timedelta(days=60)
    item.withdraw(effective_from=gone, reason="事项取消", at=T0 + timedelta(days=1), **EDIT)
    assert [type(e).__name__ for e in item.collect_events()] == ["Withdrawn"]
    assert item.terms_at(gone - timedelta(seconds=1)).version == 1
    with pytest.raises(ItemWithdrawn, match="withdrawn from 2018-04-30"):
        item.terms_at(gone)
    assert item.withdrawn_from == gone and item.withdrawal_reason == "事项取消"


def test_withdraw_twice_is_refused() -> None:
    item = published()
    item.withdraw(effective_from=T0 + timedelta(days=1), reason="取消", at=T0, **EDIT)
    item.collect_events()
    with pytest.raises(ItemWithdrawn, match="expected an item still in the catalog"):
        item.withdraw(effective_from=T0 + timedelta(days=2), reason="取消", at=T0, **EDIT)
    assert_nothing_recorded(item, 2)


def test_amend_after_withdrawal_is_refused() -> None:
    item = published()
    item.withdraw(effective_from=T0 + timedelta(days=9), reason="取消", at=T0, **EDIT)
    item.collect_events()
    with pytest.raises(ItemWithdrawn, match="was withdrawn"):
        item.amend(make_terms(version=2, effective_from=T0 + timedelta(days=1)), at=T0, **EDIT)
    assert_nothing_recorded(item, 2)


def test_withdraw_refuses_a_retroactive_effective_time() -> None:
    item = published()
    with pytest.raises(EffectiveDateRejected, match="must not precede the command time"):
        item.withdraw(
            effective_from=T0 + timedelta(hours=1),
            reason="取消",
            at=T0 + timedelta(days=1),
            **EDIT,
        )
    assert_nothing_recorded(item, 1)


def test_withdraw_refuses_an_empty_reason() -> None:
    item = published()
    with pytest.raises(InvalidCommand, match="withdrawal reason must be non-empty text"):
        item.withdraw(effective_from=T0 + timedelta(days=1), reason="", at=T0, **EDIT)
    assert_nothing_recorded(item, 1)


def test_replaying_item_events_rebuilds_an_equal_item() -> None:
    item = ServiceItem.publish(make_terms(), at=T0, **EDIT)
    item.amend(make_terms(version=2, effective_from=T0 + timedelta(days=1)), at=T0, **EDIT)
    item.withdraw(effective_from=T0 + timedelta(days=2), reason="取消", at=T0, **EDIT)
    copy: ServiceItem | None = None
    for domain_event in item.collect_events():
        copy = domain_event.mutate(copy)
    assert copy == item


# --- the sample catalog -----------------------------------------------------------------------


def test_sample_catalog_holds_the_3550_headline_items() -> None:
    by_name = {t.name: t for t in load_sample_catalog()}
    assert by_name["企业设立登记"].promised_days == 3
    assert by_name["企业不动产登记"].promised_days == 5
    permit = by_name["建筑工程施工许可（工业建设项目并联审批）"]
    assert permit.promised_days == 50
    assert permit.lead_department == "zjj"
    assert set(permit.joint_departments) == {"zrzyghj", "xfjy", "rfb"}


def test_sample_catalog_has_immediate_zero_visit_tolerable_and_e_license_items() -> None:
    items = load_sample_catalog()
    assert any(t.is_immediate and t.promised_days == 0 for t in items)
    assert any(t.visit_target == 0 for t in items)
    materials = [m for t in items for m in t.materials]
    assert any(m.tolerable and not m.is_main for m in materials)
    assert any(m.e_license_type == "yyzz" and m.name == "营业执照复印件" for m in materials)


def test_sample_catalog_names_every_department_and_license_type_it_uses() -> None:
    departments = load_sample_departments()
    license_types = load_sample_license_types()
    assert departments["scjgj"].name == "资阳市市场监督管理局"
    assert license_types["yyzz"].name_en == "Business license"
    for terms in load_sample_catalog():
        assert set(terms.required_departments) <= set(departments)


def test_every_sample_item_can_be_published() -> None:
    items = load_sample_catalog()
    ids = {ServiceItem.publish(t, at=T0, **EDIT).id for t in items}
    assert len(ids) == len(items)
