"""The directory of other regions' trust: roots pinned for good, trust lists and status lists
only forward, nothing for a withdrawn region, administrators only; the same document again is no
event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.errors import (
    ActionNotPermitted,
    InvalidCommand,
    RegionConflict,
    RegionDocumentInvalid,
    UnknownRegion,
)
from ledger.regions import MAX_DOCUMENT_BYTES, RegionDirectory, check_region_name

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ADMIN = {"principal": "admin-zhao", "role": "admin", "department": None, "on_behalf_of": None}
BY: dict[str, Any] = {"at": T0, "actor": ADMIN, "channel": "system"}
ROOT, ROOT_KID = b"\x30" * 44, b"\x01" * 16


def directory() -> RegionDirectory:
    regions = RegionDirectory(**BY)
    regions.register(name="hunan", title="湖南省", root_public_key=ROOT, root_kid=ROOT_KID, **BY)
    return regions


def with_trust_list(sequence: int = 3) -> RegionDirectory:
    regions = directory()
    regions.install_trust_list(
        name="hunan", data=b"list-%d" % sequence, sequence=sequence, issued_at=T0, **BY
    )
    return regions


def pending(regions: RegionDirectory) -> list[str]:
    return [type(e).__name__ for e in regions.collect_events()]


def test_a_registered_region_holds_its_root_and_nothing_else_yet() -> None:
    regions = directory()
    region = regions.region("hunan")
    assert (region.title, region.root_kid, region.sequence, region.trust_list) == (
        "湖南省",
        ROOT_KID,
        0,
        None,
    )
    assert region.active and pending(regions) == ["Opened", "Registered"]


def test_registering_the_same_region_again_is_no_event() -> None:
    regions = directory()
    regions.collect_events()
    again = regions.register(
        name="hunan", title="湖南省", root_public_key=ROOT, root_kid=ROOT_KID, **BY
    )
    assert again is False and pending(regions) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"root_public_key": b"\x31" * 44, "root_kid": b"\x02" * 16}, "pinned for good"),
        ({"title": "湖北省"}, "pinned for good"),
        ({"name": "hunan-2"}, "already pinned for region 'hunan'"),
    ],
)
def test_a_region_keeps_its_root_and_a_root_belongs_to_one_region(
    change: dict[str, Any], match: str
) -> None:
    regions = directory()
    regions.collect_events()
    args: dict[str, Any] = {
        "name": "hunan",
        "title": "湖南省",
        "root_public_key": ROOT,
        "root_kid": ROOT_KID,
    }
    with pytest.raises(RegionConflict, match=match):
        regions.register(**(args | change), **BY)
    assert pending(regions) == []


@pytest.mark.parametrize("name", ["H", "Hunan", "hu nan", "1hunan", "h" * 33, "", None])
def test_region_names_are_short_lower_case_words(name: object) -> None:
    with pytest.raises(InvalidCommand, match="expected 2-32 lower-case letters"):
        check_region_name(name)


def test_only_an_administrator_changes_trust_and_only_at_an_aware_time() -> None:
    regions = directory()
    officer = ADMIN | {"role": "officer", "department": "zjj"}
    with pytest.raises(ActionNotPermitted, match="got role 'officer'"):
        regions.withdraw(name="hunan", reason="r", at=T0, actor=officer, channel="system")
    with pytest.raises(InvalidCommand, match="timezone-aware"):
        regions.withdraw(
            name="hunan", reason="r", at=T0.replace(tzinfo=None), actor=ADMIN, channel="system"
        )


def test_a_trust_list_moves_only_forward() -> None:
    regions = with_trust_list(3)
    regions.collect_events()
    with pytest.raises(RegionConflict, match="sequence above 3, got 3"):
        regions.install_trust_list(name="hunan", data=b"other", sequence=3, issued_at=T0, **BY)
    with pytest.raises(RegionConflict, match="sequence above 3, got 2"):
        regions.install_trust_list(name="hunan", data=b"old", sequence=2, issued_at=T0, **BY)
    same = regions.install_trust_list(name="hunan", data=b"list-3", sequence=3, issued_at=T0, **BY)
    assert same is False and pending(regions) == []
    regions.install_trust_list(name="hunan", data=b"list-4", sequence=4, issued_at=T0, **BY)
    assert regions.region("hunan").sequence == 4 and pending(regions) == ["TrustListInstalled"]


def test_a_status_list_needs_a_trust_list_and_moves_only_forward() -> None:
    regions = directory()
    with pytest.raises(RegionConflict, match="no trust list yet"):
        regions.install_status_list(name="hunan", list_id="l/1", data=b"s1", issued_at=T0, **BY)
    regions = with_trust_list()
    later = T0 + timedelta(days=1)
    regions.install_status_list(name="hunan", list_id="l/1", data=b"s1", issued_at=later, **BY)
    regions.collect_events()
    for issued in (later, T0):
        with pytest.raises(RegionConflict, match="issued after"):
            regions.install_status_list(
                name="hunan", list_id="l/1", data=b"s0", issued_at=issued, **BY
            )
    same = regions.install_status_list(
        name="hunan", list_id="l/1", data=b"s1", issued_at=later, **BY
    )
    assert same is False and pending(regions) == []
    # Another list of the region is independent of the first.
    regions.install_status_list(name="hunan", list_id="l/2", data=b"t", issued_at=T0, **BY)
    assert sorted(regions.region("hunan").status_lists) == ["l/1", "l/2"]


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"", "expected non-empty bytes"), (b"x" * (MAX_DOCUMENT_BYTES + 1), "at most")],
)
def test_documents_must_be_some_bytes_within_the_cap(data: bytes, match: str) -> None:
    regions = directory()
    with pytest.raises(RegionDocumentInvalid, match=match):
        regions.install_trust_list(name="hunan", data=data, sequence=1, issued_at=T0, **BY)


def test_a_withdrawn_region_takes_nothing_more_and_withdrawing_again_is_no_event() -> None:
    regions = with_trust_list()
    regions.withdraw(name="hunan", reason=" 协议到期 ", **BY)
    region = regions.region("hunan")
    assert (region.active, region.withdrawal_reason) == (False, "协议到期")
    regions.collect_events()
    assert regions.withdraw(name="hunan", reason="again", **BY) is False
    with pytest.raises(RegionConflict, match="was withdrawn"):
        regions.install_trust_list(name="hunan", data=b"list-9", sequence=9, issued_at=T0, **BY)
    assert pending(regions) == []


def test_an_unknown_region_is_named() -> None:
    with pytest.raises(UnknownRegion, match="no region named 'hubei'"):
        directory().install_trust_list(name="hubei", data=b"l", sequence=1, issued_at=T0, **BY)
