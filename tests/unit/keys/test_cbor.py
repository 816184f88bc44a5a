"""Strict CBOR decoding and the canonical encoding rule we rely on."""

from __future__ import annotations

import contextlib
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.cbor import cbor_type_name, dumps_canonical, loads_strict
from keys.errors import KeyManagementError, MalformedMessage

cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def test_decodes_exactly_one_item() -> None:
    assert loads_strict(bytes.fromhex("a26161016162820203")) == {"a": 1, "b": [2, 3]}


def test_plain_cbor2_loads_ignores_trailing_bytes_which_is_why_we_wrap_it() -> None:
    assert cbor2.loads(b"\x01\x02\x03") == 1


def test_rejects_message_with_trailing_bytes() -> None:
    with pytest.raises(MalformedMessage, match=r"got 2 trailing bytes after the first item \(1 "):
        loads_strict(b"\x01\x02\x03")


def test_rejects_empty_input() -> None:
    with pytest.raises(MalformedMessage, match="got empty input"):
        loads_strict(b"")


def test_rejects_truncated_item() -> None:
    with pytest.raises(MalformedMessage, match="truncated CBOR"):
        loads_strict(bytes.fromhex("5820aabb"))  # bstr announcing 32 bytes, holding 2


def test_rejects_a_lone_break_code() -> None:
    with pytest.raises(MalformedMessage, match="malformed CBOR: break code"):
        loads_strict(b"\xff")


def test_rejects_reserved_additional_information() -> None:
    with pytest.raises(MalformedMessage, match="malformed CBOR"):
        loads_strict(b"\x1c")


def test_rejects_duplicate_map_keys() -> None:
    with pytest.raises(MalformedMessage, match="malformed CBOR.*Duplicate map key: 1"):
        loads_strict(bytes.fromhex("a201010102"))


def test_rejects_text_that_is_not_utf8() -> None:
    with pytest.raises(MalformedMessage, match="malformed CBOR"):
        loads_strict(bytes.fromhex("62fffe"))


def test_rejects_input_that_is_not_bytes() -> None:
    with pytest.raises(MalformedMessage, match="expected CBOR as bytes, got str"):
        loads_strict("a0")  # type: ignore[arg-type]


def test_errors_belong_to_the_keys_hierarchy() -> None:
    with pytest.raises(KeyManagementError, match="empty input"):
        loads_strict(b"")


def test_canonical_orders_map_keys_length_first_per_rfc8949_4_2_3() -> None:
    # Bytewise (§4.2.1) would put 24 (0x18 0x18) before -1 (0x20); length-first puts -1 first.
    assert dumps_canonical({24: "a", -1: "b"}) == bytes.fromhex("a220616218186161")


def test_canonical_protected_header_is_alg_then_kid() -> None:
    assert dumps_canonical({4: b"k", 1: -8}) == bytes.fromhex("a2012704416b")


def _encoded_key_order(encoded_map: bytes) -> list[bytes]:
    decoded = loads_strict(encoded_map)
    return [dumps_canonical(key) for key in decoded]


@given(st.dictionaries(st.text(max_size=30), st.integers(), min_size=2, max_size=12))
def test_text_keys_come_out_in_bytewise_order_too(mapping: dict[str, int]) -> None:
    encoded_keys = _encoded_key_order(dumps_canonical(mapping))
    assert encoded_keys == sorted(encoded_keys)


@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=2**64 - 1), st.integers(), min_size=2, max_size=12
    )
)
def test_unsigned_integer_keys_come_out_in_bytewise_order_too(mapping: dict[int, int]) -> None:
    encoded_keys = _encoded_key_order(dumps_canonical(mapping))
    assert encoded_keys == sorted(encoded_keys)


@given(cbor_values)
def test_canonical_encoding_round_trips_through_the_strict_decoder(value: Any) -> None:
    assert loads_strict(dumps_canonical(value)) == value


@given(cbor_values, st.binary(min_size=1, max_size=8))
def test_any_trailing_bytes_are_refused(value: Any, trailing: bytes) -> None:
    with pytest.raises(MalformedMessage, match="trailing bytes"):
        loads_strict(dumps_canonical(value) + trailing)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_only_malformed_message(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        loads_strict(data)


def test_dumps_canonical_refuses_values_cbor_cannot_encode() -> None:
    with pytest.raises(MalformedMessage, match="cannot encode object as canonical CBOR"):
        dumps_canonical(object())


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (True, "bool"),
        (1, "int"),
        (1.5, "float"),
        (b"", "bstr"),
        ("", "tstr"),
        (None, "nil"),
        ([1, 2, 3], "array of 3"),
        ((1,), "array of 1"),
        ({}, "map"),
        (cbor2.CBORTag(61, 0), "tag 61"),
    ],
    ids=lambda v: repr(v),
)
def test_names_cbor_types_for_error_messages(value: object, name: str) -> None:
    assert cbor_type_name(value) == name


@pytest.mark.parametrize(
    ("item_size", "trailing_size"),
    [(1, 1), (1, 4095), (1, 4096), (1, 10_000), (4090, 6), (4096, 1), (9000, 9000)],
    ids=lambda n: str(n),
)
def test_trailing_bytes_are_counted_exactly_past_the_decoders_read_ahead(
    item_size: int, trailing_size: int
) -> None:
    # The decoder reads the stream ahead in blocks; the count must not depend on where they end.
    item = dumps_canonical(b"\x07" * item_size)
    with pytest.raises(MalformedMessage, match=f"got {trailing_size} trailing bytes after the "):
        loads_strict(item + b"\x00" * trailing_size)
    assert loads_strict(item) == b"\x07" * item_size


@given(st.binary(min_size=0, max_size=9000), st.binary(min_size=1, max_size=9000))
def test_trailing_bytes_after_a_long_item_are_refused(value: bytes, trailing: bytes) -> None:
    item = dumps_canonical(value)
    with pytest.raises(MalformedMessage, match=f"got {len(trailing)} trailing bytes"):
        loads_strict(item + trailing)
