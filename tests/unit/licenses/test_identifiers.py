"""License ids, holder ids and their check characters: published examples, each rule, properties."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses import holder_ids
from licenses.check_characters import (
    ALPHANUMERIC,
    DIGITS,
    USCC_ALPHABET,
    mod11_2_check,
    mod11_2_valid,
    mod37_36_character,
    mod37_36_check,
    mod37_36_product,
    mod37_36_valid,
    org_code_check,
    org_code_valid,
    uscc_check,
    uscc_valid,
)
from licenses.errors import (
    InvalidHolderId,
    InvalidIdentifier,
    InvalidLicenseId,
    LicenseError,
    mask_id,
)
from licenses.holder_ids import (
    USCC_CATEGORIES,
    CitizenId,
    HolderId,
    is_holder_id,
    make_citizen_id,
    make_uscc,
    parse_citizen_id,
    parse_holder_id,
    parse_org_code,
    parse_uscc,
    upgrade_legacy_citizen_id,
)
from licenses.identifiers import LicenseId, license_type_and_version, well_formed_license_id

# The worked example of GB 11643-1999 (a woman born 1949-12-31 in Beijing's Chaoyang district).
GB11643_EXAMPLE = "11010519491231002X"
GB11643_LEGACY_EXAMPLE = "110105491231002"
# Widely published credit code; the others are departments' codes seen inside license ids.
PUBLISHED_USCCS = [
    "91350100M000100Y43",
    "11100000000013338W",
    "11430000006122244L",
    "11330105002500287C",
    "113700000045030270",
    "11100000MB0341032Y",
    "11420503087246977F",
]
# A frequently quoted GB 11714 organisation code example.
GB11714_EXAMPLE = "D2143569-X"
# License ids quoted in public e-license integration code; their check characters agree with ours.
PUBLISHED_LICENSE_IDS = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]
# An issued id whose issuer part is a 6-digit region code: valid MOD 37,36, refused by our format.
REGION_ISSUER_LICENSE_ID = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"
# All digits, valid both as a citizen id (region 911101) and as a credit code (9 1 110119 ...).
AMBIGUOUS_HOLDER_ID = "911101199001012379"

TYPE_CODE = "11100000000013338W011"
ISSUER = "11430000006122244L"


def swap(text: str, i: int, j: int) -> str:
    """Return ``text`` with the characters at ``i`` and ``j`` exchanged."""
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def substitute(text: str, i: int, char: str) -> str:
    """Return ``text`` with the character at ``i`` replaced by ``char``."""
    return text[:i] + char + text[i + 1 :]


# --- Strategies ------------------------------------------------------------------------------

uscc_bodies = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)
regions = st.text(alphabet=DIGITS, min_size=6, max_size=6)
departments = st.sampled_from(sorted(USCC_CATEGORIES))


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid credit codes built from drawn parts."""
    department = draw(departments)
    category = draw(st.sampled_from(USCC_CATEGORIES[department]))
    return make_uscc(department, category, draw(regions), draw(uscc_bodies))


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    """Valid 18-character citizen ids built from drawn parts."""
    region = draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=5, max_size=5))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    return make_citizen_id(region, birth, draw(st.integers(0, 999)))


@st.composite
def license_ids(draw: st.DrawFn) -> LicenseId:
    """Valid license ids built from drawn parts."""
    type_code = draw(usccs()) + draw(st.text(DIGITS, min_size=3, max_size=3))
    serial = draw(st.text(ALPHANUMERIC, min_size=1, max_size=32))
    return LicenseId(type_code, draw(usccs()), serial, draw(st.integers(1, 999)))


def license_body(license_id: LicenseId) -> str:
    """The MOD 37,36 input with its check character appended."""
    return str(license_id).removeprefix("1.2.156.3005.2.").replace(".", "")


# --- Error hierarchy and masking -------------------------------------------------------------


def test_identifier_errors_are_license_errors() -> None:
    assert issubclass(InvalidHolderId, InvalidIdentifier)
    assert issubclass(InvalidLicenseId, InvalidIdentifier)
    assert issubclass(InvalidIdentifier, LicenseError)


def test_mask_shows_at_most_the_first_six_and_the_last_character() -> None:
    assert mask_id(GB11643_EXAMPLE) == "110105***********X"
    assert mask_id(GB11643_LEGACY_EXAMPLE) == "110105********2"


def test_mask_hides_short_inputs_completely() -> None:
    assert mask_id("D2143569X") == "*********"


def test_mask_summarises_very_long_inputs() -> None:
    assert mask_id("1" * 100) == "111111…(100 chars)…1"


# --- MOD 37,36 -------------------------------------------------------------------------------


def test_mod37_36_check_matches_published_license_ids() -> None:
    for text in PUBLISHED_LICENSE_IDS:
        body = text.removeprefix("1.2.156.3005.2.").replace(".", "")
        assert mod37_36_check(body[:-1]) == body[-1]
        assert mod37_36_valid(body)


def test_mod37_36_refuses_characters_outside_its_alphabet() -> None:
    with pytest.raises(InvalidIdentifier, match=r"position 3: expected one of .*, got 'c'"):
        mod37_36_check("ABc")


def test_mod37_36_valid_is_false_for_empty_or_foreign_input() -> None:
    assert not mod37_36_valid("")
    assert not mod37_36_valid("AB-1")


def test_mod37_36_misses_adjacent_swaps_only_of_value_neighbours_in_one_state_each() -> None:
    # The check depends only on the running state before a pair, and a one-character prefix
    # reaches every one of the 36 states, so this enumerates every case there is.
    missed: dict[str, set[frozenset[str]]] = {}
    for prefix in ALPHANUMERIC:
        for a in ALPHANUMERIC:
            for b in ALPHANUMERIC:
                if a == b:
                    continue
                text = prefix + a + b
                if mod37_36_valid(prefix + b + a + mod37_36_check(text)):
                    missed.setdefault(prefix, set()).add(frozenset((a, b)))
    assert len(missed) == 36
    for pairs in missed.values():
        assert len(pairs) == 1
        a, b = sorted(next(iter(pairs)), key=ALPHANUMERIC.index)
        assert (ALPHANUMERIC.index(b) - ALPHANUMERIC.index(a)) % 36 in (1, 35)


def test_mod37_36_catches_every_substitution_in_every_state() -> None:
    for prefix in ALPHANUMERIC:
        for a in ALPHANUMERIC:
            check = mod37_36_check(prefix + a)
            for b in ALPHANUMERIC.replace(a, ""):
                assert not mod37_36_valid(prefix + b + check)


# --- MOD 11-2 --------------------------------------------------------------------------------


def test_mod11_2_check_matches_the_gb11643_example() -> None:
    assert mod11_2_check(GB11643_EXAMPLE[:17]) == "X"
    assert mod11_2_valid(GB11643_EXAMPLE)


def test_mod11_2_refuses_non_digits() -> None:
    with pytest.raises(InvalidIdentifier, match=r"MOD 11-2 input position 2: .*got 'X'"):
        mod11_2_check("1X")


def test_mod11_2_valid_is_false_for_x_inside_the_body() -> None:
    assert not mod11_2_valid("X10")
    assert not mod11_2_valid("")


# --- GB 32100 mod 31 and GB 11714 ------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_credit_codes_validate(code: str) -> None:
    assert uscc_valid(code)
    assert parse_uscc(code).value == code


def test_credit_code_parts_are_exposed() -> None:
    code = parse_uscc("91350100M000100Y43")
    assert code.registration_department == "9"
    assert code.category == "1"
    assert code.region == "350100"
    assert code.org_code == "M000100Y4"


def test_uscc_check_needs_seventeen_characters() -> None:
    with pytest.raises(InvalidIdentifier, match="expected 17 characters, got 16"):
        uscc_check("9135010000000000")


def test_uscc_valid_is_false_for_characters_outside_the_alphabet() -> None:
    assert not uscc_valid("91350100M000100I43")
    assert not uscc_valid("91350100M000100Y4")


def test_gb11714_example_validates() -> None:
    assert org_code_check("D2143569") == "X"
    assert org_code_valid("D2143569X")
    assert parse_org_code(GB11714_EXAMPLE) == "D2143569X"


def test_org_code_check_needs_eight_characters() -> None:
    with pytest.raises(InvalidIdentifier, match="expected 8 characters, got 7"):
        org_code_check("D214356")


def test_org_code_valid_is_false_for_wrong_length() -> None:
    assert not org_code_valid("D2143569")


def test_rejects_org_code_with_wrong_check_character() -> None:
    with pytest.raises(InvalidHolderId, match="check character: expected 'X', got '1'"):
        parse_org_code("D2143569-1")


def test_rejects_org_code_of_wrong_length() -> None:
    with pytest.raises(InvalidHolderId, match="expected 9 characters or 'XXXXXXXX-X', got 8"):
        parse_org_code("D2143569")


def test_rejects_org_code_with_lowercase_letter() -> None:
    with pytest.raises(InvalidHolderId, match="position 1: expected 0-9 or A-Z, got 'd'"):
        parse_org_code("d2143569-X")


# --- Citizen ids -----------------------------------------------------------------------------


def test_gb11643_example_parses_with_gender_and_birth_date() -> None:
    citizen = parse_citizen_id(GB11643_EXAMPLE)
    assert citizen == CitizenId(GB11643_EXAMPLE, "110105", date(1949, 12, 31), "002")
    assert citizen.gender == "female"


def test_lowercase_x_is_normalised() -> None:
    assert parse_citizen_id(GB11643_EXAMPLE.lower()).value == GB11643_EXAMPLE


def test_odd_sequence_is_male() -> None:
    assert parse_citizen_id(make_citizen_id("110105", date(1980, 2, 29), 1)).gender == "male"


def test_citizen_id_repr_is_masked() -> None:
    assert (
        repr(parse_citizen_id(GB11643_EXAMPLE)) == "CitizenId('110105***********X', legacy=False)"
    )


def test_rejects_citizen_id_with_wrong_check_character() -> None:
    with pytest.raises(
        InvalidHolderId, match="citizen id '110105\\*{11}5': check character: expected 'X', got '5'"
    ):
        parse_citizen_id(GB11643_EXAMPLE[:17] + "5")


def test_rejects_citizen_id_of_wrong_length() -> None:
    with pytest.raises(InvalidHolderId, match="expected 18 characters, got 17"):
        parse_citizen_id(GB11643_EXAMPLE[:17])


def test_rejects_citizen_id_with_letter_in_body() -> None:
    with pytest.raises(InvalidHolderId, match="position 5: expected a digit, got 'A'"):
        parse_citizen_id(substitute(GB11643_EXAMPLE, 4, "A"))


def test_rejects_citizen_id_with_letter_other_than_x_at_the_end() -> None:
    with pytest.raises(InvalidHolderId, match="position 18: expected a digit or 'X', got 'Y'"):
        parse_citizen_id(GB11643_EXAMPLE[:17] + "Y")


def test_rejects_citizen_id_with_region_starting_zero() -> None:
    with pytest.raises(InvalidHolderId, match="expected a region code starting 1-9, got '0'"):
        parse_citizen_id(substitute(GB11643_EXAMPLE, 0, "0"))


def test_rejects_citizen_id_with_impossible_birth_date_without_quoting_it() -> None:
    body = "110105" + "19490230" + "002"
    with pytest.raises(
        InvalidHolderId, match="positions 7-14: expected a real calendar date"
    ) as info:
        parse_citizen_id(body + mod11_2_check(body))
    assert "19490230" not in str(info.value)


def test_rejects_citizen_born_after_the_given_date() -> None:
    with pytest.raises(InvalidHolderId, match="birth date: expected on or before 1949-12-30"):
        parse_citizen_id(GB11643_EXAMPLE, at=date(1949, 12, 30))


def test_accepts_citizen_born_on_the_given_date() -> None:
    assert parse_citizen_id(GB11643_EXAMPLE, at=date(1949, 12, 31)).birth_date == date(1949, 12, 31)


def test_citizen_error_messages_never_contain_the_full_id() -> None:
    with pytest.raises(InvalidHolderId, match="check character") as info:
        parse_citizen_id(GB11643_EXAMPLE[:17] + "5")
    assert GB11643_EXAMPLE[:17] not in str(info.value)
    assert info.value.masked == "110105***********5"


def test_legacy_fifteen_digit_id_parses_when_allowed() -> None:
    citizen = parse_citizen_id(GB11643_LEGACY_EXAMPLE, allow_legacy=True)
    assert citizen.legacy
    assert citizen.birth_date == date(1949, 12, 31)
    assert citizen.gender == "female"


def test_legacy_fifteen_digit_id_is_refused_by_default() -> None:
    with pytest.raises(InvalidHolderId, match="got 15 \\(15-digit first-generation ids need"):
        parse_citizen_id(GB11643_LEGACY_EXAMPLE)


def test_rejects_legacy_id_with_impossible_date() -> None:
    with pytest.raises(InvalidHolderId, match="positions 7-12: expected a real calendar date"):
        parse_citizen_id("110105490230002", allow_legacy=True)


def test_rejects_legacy_id_with_letter() -> None:
    with pytest.raises(InvalidHolderId, match="position 15: expected a digit, got 'X'"):
        parse_citizen_id("11010549123100X", allow_legacy=True)


def test_upgrades_legacy_id_to_the_gb11643_example() -> None:
    assert upgrade_legacy_citizen_id(GB11643_LEGACY_EXAMPLE) == GB11643_EXAMPLE


def test_make_citizen_id_rebuilds_the_gb11643_example() -> None:
    assert make_citizen_id("110105", date(1949, 12, 31), 2) == GB11643_EXAMPLE


def test_make_citizen_id_refuses_out_of_range_sequence() -> None:
    with pytest.raises(InvalidIdentifier, match="sequence: expected 0-999, got 1000"):
        make_citizen_id("110105", date(1949, 12, 31), 1000)


def test_make_citizen_id_refuses_short_region() -> None:
    with pytest.raises(InvalidIdentifier, match="region: expected 6 digits, got '11010'"):
        make_citizen_id("11010", date(1949, 12, 31), 2)


# --- Unified social credit codes -------------------------------------------------------------


def test_rejects_credit_code_with_wrong_check_character() -> None:
    with pytest.raises(InvalidHolderId, match="check character: expected '3', got '4'"):
        parse_uscc("91350100M000100Y44")


def test_rejects_credit_code_with_wrong_organisation_code_check() -> None:
    with pytest.raises(
        InvalidHolderId, match=r"organisation code check character \(position 17\): expected '4'"
    ):
        parse_uscc("91350100M000100Y53")


def test_rejects_credit_code_of_wrong_length() -> None:
    with pytest.raises(InvalidHolderId, match="expected 18 characters, got 17"):
        parse_uscc("91350100M000100Y4")


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "m"])
def test_rejects_credit_code_with_letter_outside_the_alphabet(letter: str) -> None:
    with pytest.raises(InvalidHolderId, match=f"position 9: expected one of .*, got '{letter}'"):
        parse_uscc(substitute("91350100M000100Y43", 8, letter))


def test_rejects_unknown_registration_department() -> None:
    with pytest.raises(InvalidHolderId, match="position 1: expected a registration department"):
        parse_uscc(make_uscc("9", "1", "350100", "M000100Y").replace("9", "B", 1))


def test_rejects_category_the_department_does_not_have() -> None:
    with pytest.raises(
        InvalidHolderId, match="position 2: expected a category of department '9' .*got '4'"
    ):
        parse_uscc(substitute("91350100M000100Y43", 1, "4"))


def test_rejects_credit_code_with_letter_in_region() -> None:
    with pytest.raises(InvalidHolderId, match="position 4: expected a region digit, got 'A'"):
        parse_uscc(substitute("91350100M000100Y43", 3, "A"))


def test_make_uscc_rebuilds_a_published_code() -> None:
    assert make_uscc("9", "1", "350100", "M000100Y") == "91350100M000100Y43"


def test_make_uscc_refuses_organisation_body_outside_the_alphabet() -> None:
    with pytest.raises(InvalidIdentifier, match="organisation code body: expected 8 chars"):
        make_uscc("9", "1", "350100", "M000100O")


def test_make_uscc_refuses_short_region() -> None:
    with pytest.raises(InvalidIdentifier, match="expected 1 \\+ 1 \\+ 6 \\+ 8 characters, got 15"):
        make_uscc("9", "1", "35010", "M000100Y")


# --- Holder ids ------------------------------------------------------------------------------


def test_detects_citizen_holder() -> None:
    holder = parse_holder_id(GB11643_EXAMPLE)
    assert holder == HolderId("citizen", GB11643_EXAMPLE, legacy=False)
    assert holder.birth_date == date(1949, 12, 31)
    assert holder.gender == "female"


def test_detects_enterprise_holder() -> None:
    holder = parse_holder_id("91350100M000100Y43")
    assert holder == HolderId("enterprise", "91350100M000100Y43")
    assert holder.birth_date is None
    assert holder.gender is None


def test_detects_legacy_citizen_holder() -> None:
    assert parse_holder_id(GB11643_LEGACY_EXAMPLE) == HolderId(
        "citizen", GB11643_LEGACY_EXAMPLE, legacy=True
    )


def test_detects_legacy_organisation_code_holder() -> None:
    assert parse_holder_id(GB11714_EXAMPLE) == HolderId("enterprise", "D2143569X", legacy=True)


def test_refuses_legacy_holder_forms_when_not_allowed() -> None:
    with pytest.raises(InvalidHolderId, match="citizen id .*need allow_legacy"):
        parse_holder_id(GB11643_LEGACY_EXAMPLE, allow_legacy=False)
    with pytest.raises(InvalidHolderId, match="unified social credit code .*expected 18"):
        parse_holder_id(GB11714_EXAMPLE, allow_legacy=False)


def test_holder_normalises_lowercase_x() -> None:
    assert parse_holder_id(GB11643_EXAMPLE.lower()).value == GB11643_EXAMPLE


def test_holder_refuses_birth_after_the_given_date() -> None:
    with pytest.raises(InvalidHolderId, match="birth date: expected on or before"):
        parse_holder_id(GB11643_EXAMPLE, at=date(1900, 1, 1))


def test_reports_both_readings_when_neither_validates() -> None:
    with pytest.raises(
        InvalidHolderId,
        match=r"holder id '110105\*{11}5': .*citizen id, check character: "
        r"expected 'X', got '5'; as unified social credit code",
    ):
        parse_holder_id(GB11643_EXAMPLE[:17] + "5")


def test_reports_only_the_citizen_error_for_an_id_ending_in_lowercase_x() -> None:
    with pytest.raises(
        InvalidHolderId, match="^citizen id .*check character: expected '8', got 'X'"
    ):
        parse_holder_id(GB11643_EXAMPLE[:16] + "3x")


def test_reports_the_credit_code_error_for_text_with_lowercase_letters() -> None:
    with pytest.raises(
        InvalidHolderId, match="^unified social credit code .*position 9: .*got 'm'"
    ):
        parse_holder_id("91350100m000100Y43")


def test_refuses_holder_id_of_unknown_length() -> None:
    with pytest.raises(InvalidHolderId, match="expected 18 characters \\(15 or 9 for legacy"):
        parse_holder_id("1101051")


def test_refuses_ambiguous_holder_id_unless_kind_is_given() -> None:
    assert parse_citizen_id(AMBIGUOUS_HOLDER_ID).birth_date == date(1990, 1, 1)
    assert parse_uscc(AMBIGUOUS_HOLDER_ID).region == "110119"
    with pytest.raises(InvalidHolderId, match="got a valid citizen id and a valid credit code"):
        parse_holder_id(AMBIGUOUS_HOLDER_ID)
    assert parse_holder_id(AMBIGUOUS_HOLDER_ID, kind="enterprise").kind == "enterprise"
    assert parse_holder_id(AMBIGUOUS_HOLDER_ID, kind="citizen").kind == "citizen"


def test_holder_id_refuses_unnormalised_value() -> None:
    with pytest.raises(InvalidHolderId, match="expected the normalised form"):
        HolderId("citizen", GB11643_EXAMPLE.lower())


def test_holder_id_refuses_wrong_legacy_flag() -> None:
    with pytest.raises(InvalidHolderId, match="expected legacy=True, got legacy=False"):
        HolderId("citizen", GB11643_LEGACY_EXAMPLE)


def test_holder_id_refuses_value_of_the_other_kind() -> None:
    with pytest.raises(InvalidHolderId, match="citizen id .*position 9: expected a digit"):
        HolderId("citizen", "91350100M000100Y43")


def test_holder_id_refuses_unknown_kind() -> None:
    with pytest.raises(
        InvalidHolderId, match="expected kind 'citizen' or 'enterprise', got 'robot'"
    ):
        HolderId("robot", GB11643_EXAMPLE)  # type: ignore[arg-type]


def test_enterprise_holder_of_near_credit_code_length_gets_the_credit_code_error() -> None:
    with pytest.raises(InvalidHolderId, match="unified social credit code .*expected 18 .*got 17"):
        parse_holder_id("91350100M000100Y4", kind="enterprise")


def test_holder_id_repr_is_masked() -> None:
    holder = parse_holder_id(GB11643_EXAMPLE)
    assert repr(holder) == "HolderId('citizen', '110105***********X', legacy=False)"
    assert GB11643_EXAMPLE not in str(holder)


# --- License ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", PUBLISHED_LICENSE_IDS)
def test_published_license_ids_round_trip(text: str) -> None:
    license_id = LicenseId.parse(text)
    assert str(license_id) == text
    assert license_id.check == text[-1]


def test_license_id_parts_are_parsed() -> None:
    license_id = LicenseId.parse(PUBLISHED_LICENSE_IDS[0])
    assert license_id == LicenseId(TYPE_CODE, ISSUER, "20230000403", 1)


def test_next_version_keeps_the_license_and_recomputes_the_check() -> None:
    renewed = LicenseId(TYPE_CODE, ISSUER, "20230000403", 1).next_version()
    assert renewed.version == 2
    assert str(renewed).endswith(".20230000403.002." + renewed.check)
    assert LicenseId.parse(str(renewed)) == renewed


def test_next_version_refuses_to_pass_999() -> None:
    with pytest.raises(InvalidLicenseId, match="version: expected below 999 to add one, got 999"):
        LicenseId(TYPE_CODE, ISSUER, "1", 999).next_version()


def test_rejects_license_id_with_wrong_check_character() -> None:
    text = PUBLISHED_LICENSE_IDS[0][:-1] + "V"
    with pytest.raises(InvalidLicenseId, match="check character: expected 'U', got 'V'"):
        LicenseId.parse(text)


def test_rejects_license_id_with_wrong_prefix() -> None:
    with pytest.raises(
        InvalidLicenseId, match="expected prefix '1.2.156.3005.2.', got '1.2.156.3005.1."
    ):
        LicenseId.parse(PUBLISHED_LICENSE_IDS[0].replace("3005.2", "3005.1", 1))


def test_rejects_license_id_with_missing_part() -> None:
    with pytest.raises(InvalidLicenseId, match="expected 5 parts after the prefix .*, got 4"):
        LicenseId.parse(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.001.U")


@pytest.mark.parametrize("version", ["01", "0001", "00A"])
def test_rejects_license_id_with_malformed_version(version: str) -> None:
    with pytest.raises(InvalidLicenseId, match=f"version: expected 3 digits, got '{version}'"):
        LicenseId.parse(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.1.{version}.U")


def test_rejects_license_id_with_version_zero() -> None:
    with pytest.raises(InvalidLicenseId, match="version: expected 1-999, got 0"):
        LicenseId.parse(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.1.000.U")


@pytest.mark.parametrize("check", ["", "UU", "u", "-"])
def test_rejects_license_id_with_malformed_check_character(check: str) -> None:
    with pytest.raises(InvalidLicenseId, match="check character: expected one of 0-9A-Z, got"):
        LicenseId.parse(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.1.001.{check}")


def test_rejects_issuer_given_as_region_code() -> None:
    assert mod37_36_valid(REGION_ISSUER_LICENSE_ID.removeprefix("1.2.156.3005.2.").replace(".", ""))
    with pytest.raises(
        InvalidLicenseId, match="issuer code '340100': expected 18 characters, got 6"
    ):
        LicenseId.parse(REGION_ISSUER_LICENSE_ID)


def test_rejects_issuer_with_invalid_credit_code() -> None:
    with pytest.raises(
        InvalidLicenseId, match="issuer code .*check character: expected 'L', got 'M'"
    ):
        LicenseId(TYPE_CODE, ISSUER[:-1] + "M", "1")


def test_rejects_type_code_of_wrong_length() -> None:
    with pytest.raises(InvalidLicenseId, match="type code .*expected 21 characters .*got 18"):
        LicenseId(TYPE_CODE[:18], ISSUER, "1")


def test_rejects_type_code_with_invalid_department() -> None:
    with pytest.raises(InvalidLicenseId, match="type code department .*expected 'W', got 'X'"):
        LicenseId(TYPE_CODE[:17] + "X011", ISSUER, "1")


def test_rejects_type_code_with_non_digit_number() -> None:
    with pytest.raises(InvalidLicenseId, match="expected a 3-digit type number, got '01A'"):
        LicenseId(TYPE_CODE[:18] + "01A", ISSUER, "1")


@pytest.mark.parametrize("serial", ["", "abc", "A-1", "A" * 33])
def test_rejects_malformed_serial(serial: str) -> None:
    with pytest.raises(InvalidLicenseId, match="serial: expected 1-32 characters of 0-9A-Z"):
        LicenseId(TYPE_CODE, ISSUER, serial)


@pytest.mark.parametrize("version", [0, 1000, True])
def test_rejects_version_out_of_range(version: int) -> None:
    with pytest.raises(InvalidLicenseId, match="version: expected 1-999, got"):
        LicenseId(TYPE_CODE, ISSUER, "1", version)


# --- Properties ------------------------------------------------------------------------------


@given(citizen_ids())
def test_every_generated_citizen_id_validates(text: str) -> None:
    citizen = parse_citizen_id(text)
    assert citizen.value == text
    assert parse_holder_id(text, kind="citizen").value == text


@given(usccs())
def test_every_generated_credit_code_validates(text: str) -> None:
    assert parse_uscc(text).value == text
    assert parse_holder_id(text, kind="enterprise").value == text


@given(license_ids())
def test_every_generated_license_id_round_trips(license_id: LicenseId) -> None:
    assert LicenseId.parse(str(license_id)) == license_id
    assert mod37_36_valid(license_body(license_id))


@given(citizen_ids())
def test_mod11_2_catches_every_single_substitution(text: str) -> None:
    for i, char in enumerate(text):
        alphabet = DIGITS + "X" if i == 17 else DIGITS
        for other in alphabet.replace(char, ""):
            assert not mod11_2_valid(substitute(text, i, other))


@given(citizen_ids())
def test_mod11_2_misses_a_swap_only_at_a_multiple_of_ten_positions(text: str) -> None:
    # Weights are 2**k mod 11 and 2 has order 10, so only positions 10 apart weigh the same.
    for i in range(18):
        for j in range(i + 1, 18):
            if text[i] == text[j]:
                continue
            moves_x_into_body = "X" in (text[i], text[j])
            caught = moves_x_into_body or (j - i) % 10 != 0
            assert mod11_2_valid(swap(text, i, j)) is not caught


@given(citizen_ids(), st.integers(0, 17), st.sampled_from(DIGITS))
def test_citizen_id_with_one_substitution_is_refused(text: str, i: int, other: str) -> None:
    if text[i] == other:
        return
    with pytest.raises(InvalidHolderId, match="citizen id"):
        parse_citizen_id(substitute(text, i, other))


@given(usccs())
def test_mod31_catches_every_single_substitution(text: str) -> None:
    for i, char in enumerate(text):
        for other in USCC_ALPHABET.replace(char, ""):
            assert not uscc_valid(substitute(text, i, other))


@given(usccs())
def test_mod31_misses_a_swap_only_of_the_first_and_check_characters(text: str) -> None:
    # Weights are 3**i mod 31 with 3 of order 30; the check weighs 1, the same as position 1.
    for i in range(18):
        for j in range(i + 1, 18):
            if text[i] != text[j]:
                assert uscc_valid(swap(text, i, j)) is ((i, j) == (0, 17))


@given(usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_credit_code_with_one_substitution_is_refused(text: str, i: int, other: str) -> None:
    if text[i] == other:
        return
    with pytest.raises(InvalidHolderId, match="unified social credit code"):
        parse_uscc(substitute(text, i, other))


@settings(max_examples=30)
@given(license_ids())
def test_mod37_36_catches_every_single_substitution_in_license_ids(license_id: LicenseId) -> None:
    body = license_body(license_id)
    for i, char in enumerate(body):
        for other in ALPHANUMERIC.replace(char, ""):
            assert not mod37_36_valid(substitute(body, i, other))


@given(license_ids())
def test_mod37_36_catches_adjacent_swaps_of_non_neighbours_in_license_ids(
    license_id: LicenseId,
) -> None:
    body = license_body(license_id)
    for i in range(len(body) - 1):
        a, b = ALPHANUMERIC.index(body[i]), ALPHANUMERIC.index(body[i + 1])
        if (a - b) % 36 not in (0, 1, 35):
            assert not mod37_36_valid(swap(body, i, i + 1))


@given(license_ids(), st.data())
def test_license_id_with_one_substitution_is_refused(
    license_id: LicenseId, data: st.DataObject
) -> None:
    text = str(license_id)
    i = data.draw(st.integers(len("1.2.156.3005.2."), len(text) - 1))
    other = data.draw(st.sampled_from(ALPHANUMERIC + ".").filter(lambda c: c != text[i]))
    with pytest.raises(InvalidLicenseId, match="expected"):
        LicenseId.parse(substitute(text, i, other))


# --- One-pass checks agree with the full parses ---------------------------------------------


@given(st.text(ALPHANUMERIC, min_size=1, max_size=20), st.text(ALPHANUMERIC, max_size=20))
def test_mod37_36_product_continues_where_a_prefix_left_off(head: str, tail: str) -> None:
    product = mod37_36_product(tail, mod37_36_product(head))
    assert mod37_36_character(product) == mod37_36_check(head + tail)


def test_mod37_36_product_names_the_first_character_outside_its_alphabet() -> None:
    with pytest.raises(InvalidIdentifier, match=r"position 2: expected one of .*, got '\.'"):
        mod37_36_product("A.B", 36)


def _parse_outcome(text: str) -> tuple[str, int] | str:
    """What LicenseId.parse makes of ``text``: its type code and version, or its error."""
    try:
        parsed = LicenseId.parse(text)
    except InvalidLicenseId as error:
        return str(error)
    return parsed.type_code, parsed.version


def _assert_one_pass_agrees(text: str) -> None:
    expected = _parse_outcome(text)
    quick = well_formed_license_id(text)
    assert quick is None or quick == expected, text
    try:
        outcome: tuple[str, int] | str = license_type_and_version(text)
    except InvalidLicenseId as error:
        outcome = str(error)
    assert outcome == expected, text


def _license_id_variants(text: str) -> list[str]:
    """Every single substitution, deletion and doubling of a character, and every prefix."""
    alphabet = ALPHANUMERIC + ".a-x "
    variants = [text[:i] for i in range(len(text))]
    for i in range(len(text)):
        variants.append(text[:i] + text[i + 1 :])
        variants.append(text[:i] + text[i] + text[i:])
        variants.extend(substitute(text, i, c) for c in alphabet if c != text[i])
    return variants


@pytest.mark.parametrize("text", [*PUBLISHED_LICENSE_IDS, REGION_ISSUER_LICENSE_ID])
def test_one_pass_license_id_check_agrees_with_parse_on_every_single_change(text: str) -> None:
    for variant in [text, *_license_id_variants(text)]:
        _assert_one_pass_agrees(variant)


@pytest.mark.parametrize("version", ["000", "999", "١٢٣", "+01", " 01"])
def test_one_pass_license_id_check_agrees_with_parse_on_edge_versions(version: str) -> None:
    serial = "20230000403"
    body = f"{TYPE_CODE}{ISSUER}{serial}{version}"
    check = mod37_36_check(body) if set(body) <= set(ALPHANUMERIC) else "0"
    _assert_one_pass_agrees(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.{serial}.{version}.{check}")


@given(license_ids())
def test_one_pass_license_id_check_reads_every_valid_id(license_id: LicenseId) -> None:
    parts = (license_id.type_code, license_id.version)
    assert well_formed_license_id(str(license_id)) == parts
    assert license_type_and_version(str(license_id)) == parts


@settings(max_examples=50)
@given(license_ids(), st.data())
def test_one_pass_license_id_check_agrees_with_parse_on_drawn_changes(
    license_id: LicenseId, data: st.DataObject
) -> None:
    text = str(license_id)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text) - 1))
        text = substitute(text, i, data.draw(st.sampled_from(ALPHANUMERIC + ".abz")))
    _assert_one_pass_agrees(text)


def _citizen_outcome(text: str) -> bool:
    """Whether parse_citizen_id takes ``text`` as it stands (normalised, legacy allowed)."""
    try:
        return parse_citizen_id(text, allow_legacy=True).value == text
    except InvalidHolderId:
        return False


def _reference_is_holder_id(text: str) -> bool:
    """is_holder_id written out: a kind that validates ``text`` in its normalised form."""
    for kind in ("citizen", "enterprise"):
        try:
            if parse_holder_id(text, kind=kind).value == text:
                return True
        except InvalidHolderId:
            continue
    return False


@pytest.mark.parametrize("year", ["0000", "0004", "1900", "1949", "2000", "2023", "2024", "9999"])
def test_one_pass_citizen_id_check_agrees_on_every_month_and_day(year: str) -> None:
    for month in range(14):
        for day in range(33):
            body = f"110105{year}{month:02d}{day:02d}002"
            text = body + mod11_2_check(body)
            assert holder_ids._is_citizen_id(text) is _citizen_outcome(text), text
            assert is_holder_id(text) is _reference_is_holder_id(text), text


@pytest.mark.parametrize(
    "text",
    [
        "010105194912310026",  # region starting 0, with its correct check character
        GB11643_EXAMPLE[:14] + "٠٠٢X",  # the same sequence in Arabic-Indic digits
        GB11643_EXAMPLE[:6] + "١٩٤٩" + GB11643_EXAMPLE[10:],  # the same year so written
        GB11643_EXAMPLE[:17] + "x",
        GB11643_EXAMPLE + "0",
    ],
    ids=["region-0", "other-script-sequence", "other-script-year", "lowercase-x", "too-long"],
)
def test_one_pass_citizen_id_check_refuses_what_the_full_parse_refuses(text: str) -> None:
    assert not holder_ids._is_citizen_id(text)
    assert not _citizen_outcome(text)


@given(citizen_ids())
def test_one_pass_citizen_id_check_reads_every_valid_id(text: str) -> None:
    assert holder_ids._is_citizen_id(text)


@given(
    citizen_ids() | usccs() | st.text("0123456789Xx", min_size=15, max_size=18),
    st.integers(0, 17),
    st.sampled_from(DIGITS + "Xx٣A- "),
)
def test_one_pass_holder_id_check_agrees_with_the_parses(text: str, i: int, char: str) -> None:
    for candidate in (text, substitute(text, i % len(text), char)):
        assert holder_ids._is_citizen_id(candidate) <= _citizen_outcome(candidate), candidate
        assert is_holder_id(candidate) is _reference_is_holder_id(candidate), candidate


def _uscc_outcome(text: str) -> bool:
    """Whether parse_uscc takes ``text``."""
    try:
        parse_uscc(text)
    except InvalidHolderId:
        return False
    return True


@pytest.mark.parametrize(
    "code",
    [
        make_uscc("9", "1", "350100", "M000100Y"),
        make_uscc("1", "2", "110105", "00000000"),
        make_uscc("5", "3", "512000", "MJ0A1B2C"),
        make_uscc("Y", "1", "330106", "XY123456"),
    ],
)
def test_one_pass_credit_code_check_agrees_on_every_single_character_change(code: str) -> None:
    for position in range(len(code)):
        for character in USCC_ALPHABET + "IOSVZaz0\u0661":
            text = code[:position] + character + code[position + 1 :]
            assert holder_ids._is_uscc(text) is _uscc_outcome(text), text
            assert is_holder_id(text) is _reference_is_holder_id(text), text
    for text in (code[:-1], code + "0", code.lower(), ""):
        assert holder_ids._is_uscc(text) is _uscc_outcome(text), text


@settings(max_examples=300)
@given(st.text(alphabet=USCC_ALPHABET + "abIO-", min_size=16, max_size=19))
def test_one_pass_credit_code_check_agrees_on_arbitrary_text(text: str) -> None:
    assert holder_ids._is_uscc(text) is _uscc_outcome(text)


@given(usccs())
def test_one_pass_credit_code_check_takes_every_valid_code(code: str) -> None:
    assert holder_ids._is_uscc(code) and is_holder_id(code)
