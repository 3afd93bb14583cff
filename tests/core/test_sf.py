"""The structured-field parser underneath the header codecs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aauth_core.wire.sf import ParseError, Token, parse_dictionary, parse_item, serialize_bare_item


@pytest.mark.parametrize("value", ['a"b\\c', "plain", "", '\\\\"', " spaces ok ", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}"])
def test_string_round_trip(value) -> None:
    assert parse_item(serialize_bare_item(value)).value == value


@pytest.mark.parametrize("value", ['"a\\x"', '"unterminated', '"tab\there"', '"caf\u00e9"', "?2", "1.2345", "-", "(", ""])
def test_bad_items(value) -> None:
    with pytest.raises(ParseError):
        parse_item(value)


def test_item_kinds() -> None:
    assert parse_item("?0").value is False
    assert parse_item("42").value == 42
    assert parse_item("-1.5").value == Decimal("-1.5")
    assert isinstance(parse_item("tok/en:x").value, Token)
    assert parse_item(":aGk=:").value == b"hi"


def test_strict_dictionary() -> None:
    with pytest.raises(ParseError):
        parse_dictionary("a=1, a=2")  # repeated member: an attack, not a typo
    with pytest.raises(ParseError):
        parse_dictionary("a=1,")
    with pytest.raises(ParseError):
        parse_dictionary("A=1")
    with pytest.raises(ParseError):
        parse_dictionary("a=:-_8:")  # base64url only where a codec asks for it
    assert parse_dictionary("a=:-_8:", lenient_bytes=True)["a"].value == b"\xfb\xff"  # type: ignore[union-attr]
    with pytest.raises(ParseError):
        parse_dictionary("a=" + "9" * 16)
