"""Every hand-written fast path in :mod:`aauth_core.wire` agrees with the general code it shortcuts.

For each shortcut, a seeded generator makes 20,000 inputs — well-formed values and near
misses: mutated bytes, whitespace, case, extra and repeated parameters, duplicate members,
unicode, huge numbers, over-long text — and each input must give exactly what the general
path gives: the same value, or a refusal with an ``AAuthError`` of the same code.  The
combined function (fast path, falling back to the general one) is what is compared, and
each test checks that both branches were really taken.
"""

from __future__ import annotations

import base64
import hashlib
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from aauth_core.errors import AAuthError
from aauth_core.request import Headers, RequestView
from aauth_core.wire import content_digest, coverage, http_fields, signature, signature_input
from aauth_core.wire.checks import MAX_HEADER_LENGTH, check_length
from aauth_core.wire.httpsig import Base, component_value, signature_base
from aauth_core.wire.signature_input import SignatureParams

CASES = 20_000

Outcome = tuple[str, Any]


def outcome(call: Callable[[], Any]) -> Outcome:
    """The value, or the code of the ``AAuthError`` refusing it (anything else propagates)."""
    try:
        return "ok", call()
    except AAuthError as exc:
        return "refused", exc.code


# ----------------------------------------------------------------------------- mutation

HOSTILE = ' \t,;=:()"\\?*/+-_.%@0123456789azAZ\x00\x7f\r\n\u00e9\u2028\uff10'


def mutate(rng: random.Random, text: str) -> str:
    """A near miss: one to three edits of the kinds that trip hand-written parsers."""
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(text))
        kind = rng.randrange(8)
        if kind == 0:
            text = text[:pos] + rng.choice(HOSTILE) + text[pos:]
        elif kind == 1 and text:
            text = text[:pos] + text[pos + 1:]
        elif kind == 2 and text:
            text = text[:pos] + rng.choice(HOSTILE) + text[pos + 1:]
        elif kind == 3:
            text = rng.choice([" ", "\t", "  ", " \t"]) + text + rng.choice(["", " ", "\t"])
        elif kind == 4:
            text = text.upper() if rng.random() < 0.5 else text[:pos] + text[pos:].swapcase()
        elif kind == 5:
            text = text + rng.choice([",", ", ", ";", ";x", ";x=1", ", " + text])
        elif kind == 6 and text:
            end = rng.randint(pos, len(text))
            text = text[:end] + text[pos:end] + text[end:]  # repeat a slice
        else:
            text = text[:pos] + rng.choice(["\u00e9", "\u2028", "\x00", "\ufeff", "9" * 16]) + text[pos:]
    return text


def variant(rng: random.Random, text: str, oversized: str) -> str:
    """``text`` as generated (45%), a near miss of it (52%), or an over-long value (3%)."""
    roll = rng.random()
    if roll < 0.45:
        return text
    return mutate(rng, text) if roll < 0.97 else oversized


# ----------------------------------------------------------------------------- Signature-Input

COMPONENTS = ["@method", "@authority", "@path", "@query", "content-type", "content-digest", "signature-key",
              "nonce", "@target-uri", "@request-target", "@scheme", "x-custom", "@status", "date"]
STRINGS = ["", "n-1", "ed25519", "key 1", "a;b=1", "a,b", "x" * 40, "=", "()", ":AAAA:"]


def _param(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if name in ("created", "expires") and roll < 0.7:
        number = rng.choice([0, 1, 1768786273, 10**14, 999_999_999_999_999, rng.randrange(10**6)])
        return f";{name}={number}"
    if roll < 0.85:
        return f';{name}="{rng.choice(STRINGS)}"'
    return f";{name}" + rng.choice(["", "=?1", "=?0", "=tok", "=-1", "=1.5", "=:AAAA:", "=01",
                                     "=1234567890123456", '="a\\"b"', '="a\\\\b"', "=(1 2)"])


def signature_input_values(rng: random.Random) -> Iterator[str]:
    for _ in range(CASES):
        label = rng.choice(["sig1", "sig", "a*", "*x", "x-1.2_y", "sig1", "sig1"])
        components = rng.sample(COMPONENTS, rng.randint(0, 8))
        if rng.random() < 0.1:
            components.append(rng.choice(components or ["@method"]))  # covered twice
        if rng.random() < 0.05:
            components.insert(0, rng.choice(["ab cd", "@Method", "a b", "@", "x y z", "é"]))
        names = rng.sample(["created", "expires", "nonce", "alg", "keyid", "tag"], rng.randint(0, 6))
        if rng.random() < 0.1:
            names.append(rng.choice(["created", "nonce", "foo", "req"]))  # repeated or unknown
        listing = " ".join(f'"{c}"' for c in components)
        text = f"{label}=({listing}){''.join(_param(rng, n) for n in names)}"
        yield variant(rng, text, text + ';nonce="' + "x" * MAX_HEADER_LENGTH + '"')


def _general_signature_input(value: str) -> SignatureParams:
    check_length("Signature-Input", value, "invalid_signature_input")
    return signature_input._build(*signature_input._parse_general(value))


def _with_serialized(result: Outcome) -> Outcome:
    # ``serialized`` is compare=False on the dataclass, yet it is what the base signs.
    return (result[0], (result[1], result[1].serialized)) if result[0] == "ok" else result


def test_signature_input_fast_regex_agrees_with_the_structured_field_parser() -> None:
    combined = signature_input.parse_signature_input.__wrapped__  # type: ignore[attr-defined]
    rng = random.Random(9421)
    taken = {"fast": 0, "general": 0, "ok": 0}
    for value in signature_input_values(rng):
        expected = _with_serialized(outcome(lambda: _general_signature_input(value)))
        got = _with_serialized(outcome(lambda: combined(value)))
        assert got == expected, value
        fast = signature_input._FAST_INPUT.fullmatch(value.strip(" \t")) is not None
        taken["fast" if fast else "general"] += 1
        taken["ok"] += got[0] == "ok"
    assert min(taken.values()) > CASES // 10, taken


def test_the_fast_signature_input_does_not_split_a_component_holding_a_space() -> None:
    """Found by the test above: ``("ab cd")`` once read as the two components ``a`` and ``d``."""
    with pytest.raises(AAuthError) as err:
        signature_input.parse_signature_input('sig1=("ab cd");created=1')
    assert err.value.code == "invalid_signature_input"


# ----------------------------------------------------------------------------- Signature


def signature_values(rng: random.Random) -> Iterator[str]:
    for _ in range(CASES):
        raw = rng.randbytes(rng.choice([0, 1, 2, 3, 31, 32, 33, 64, 65, 72, rng.randrange(100)]))
        encoded = (base64.urlsafe_b64encode if rng.random() < 0.5 else base64.b64encode)(raw).decode()
        roll = rng.random()
        if roll < 0.4:
            encoded = encoded.rstrip("=")
        elif roll < 0.5:
            encoded = encoded.rstrip("=") + "=" * rng.randint(0, 3)
        label = rng.choice(["sig1", "sig1", "s", "*", "sig-1.x", "Sig1", "1sig"])
        yield variant(rng, f"{label}=:{encoded}:", f"{label}=:{'A' * (MAX_HEADER_LENGTH + rng.randint(-8, 8))}:")


def test_signature_fast_regexes_agree_with_the_structured_field_parser() -> None:
    rng = random.Random(8941)
    taken = {"fast": 0, "general": 0, "ok": 0}
    for value in signature_values(rng):
        expected = outcome(lambda: signature._parse_general(value))
        got = outcome(lambda: signature.parse_signature(value))
        assert got == expected, value
        text = value.strip(" \t")
        fast = len(value) <= MAX_HEADER_LENGTH and (
            signature._FAST_SIGNATURE_URLSAFE.fullmatch(text) or signature._FAST_SIGNATURE_STD.fullmatch(text))
        taken["fast" if fast else "general"] += 1
        taken["ok"] += got[0] == "ok"
    assert min(taken.values()) > CASES // 10, taken


# ----------------------------------------------------------------------------- Content-Digest


def content_digest_values(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    bodies = [b"", b'{"a": 1}', b"x" * 1024, bytes(range(256))]
    for _ in range(CASES):
        body = rng.choice(bodies)
        signed = body if rng.random() < 0.7 else rng.choice(bodies)
        algorithm = rng.choice(["sha-256", "sha-256", "sha-256", "sha-512"])
        digest = base64.b64encode(hashlib.new(algorithm.replace("-", ""), signed).digest()).decode()
        if rng.random() < 0.1:
            digest = digest.translate(str.maketrans("+/", "-_")).rstrip("=")
        members = [f"{algorithm}=:{digest}:"]
        if rng.random() < 0.15:
            other = rng.choice(["sha-512", "sha-256", "md5", "unixsum", "id-sha-256"])
            members.insert(rng.randrange(2), f"{other}=:{base64.b64encode(hashlib.sha512(body).digest()).decode()}:")
        yield variant(rng, ", ".join(members), ", ".join(members) + ", " + "x" * MAX_HEADER_LENGTH), body


def test_content_digest_fast_regex_agrees_with_the_structured_field_parser() -> None:
    rng = random.Random(9530)
    taken = {"fast": 0, "general": 0, "ok": 0}
    for value, body in content_digest_values(rng):
        expected = outcome(lambda: content_digest._check_general(value, body))
        got = outcome(lambda: content_digest.check_content_digest(value, body))
        assert got == expected, value
        taken["fast" if content_digest._FAST_SHA256_DIGEST.fullmatch(value) else "general"] += 1
        taken["ok"] += got[0] == "ok"
    assert min(taken.values()) > CASES // 10, taken


# ----------------------------------------------------------------------------- signature base

FIELD_NAMES = ["content-type", "content-digest", "signature-key", "nonce", "x-custom", "date"]
FIELD_VALUES = ["application/json", " padded\t", "a, b", "", "caf\u00e9", "line\nbreak", "cr\rhere", "x" * 30]


def _headers(rng: random.Random, pairs: list[tuple[str, str]]) -> Headers:
    kind = rng.randrange(3)
    if kind == 0:
        return Headers(pairs)
    if kind == 1:
        return Headers.from_asgi([(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs])
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in pairs}
    return Headers.from_environ(environ)


def base_cases(rng: random.Random) -> Iterator[tuple[RequestView, SignatureParams, Base]]:
    for _ in range(CASES):
        pairs = [(rng.choice(FIELD_NAMES), rng.choice(FIELD_VALUES)) for _ in range(rng.randint(0, 6))]
        view = RequestView(
            method=rng.choice(["GET", "POST", "delete"]),
            authority=rng.choice(["api.example", "api.example:8443", "[::1]:8080", "h\u00e9st"]),
            path=rng.choice(["/", "", "/a/b", "/%20x", "/new\nline"]),
            query=rng.choice([None, "", "a=1&b=2", "q=\u00e9", "x=\r"]),
            headers=_headers(rng, pairs),
            scheme=rng.choice(["https", "HTTP"]),
        )
        pool = COMPONENTS + FIELD_NAMES + ["@foo", "Content-Type", "X-Custom", "@Method"]
        components = tuple(dict.fromkeys(rng.sample(pool, rng.randint(0, 7))))
        params = SignatureParams("sig1", components, created=1768786273, nonce=rng.choice([None, "n"]))
        yield view, params, rng.choice(["rfc9421", "demo-2026-01"])


def _general_base(view: RequestView, params: SignatureParams, base: Base) -> bytes:
    """The base as RFC 9421 §2.5 describes it: one :func:`component_value` per line."""
    lines = []
    for name in params.components:
        value = component_value(name, view, base=base)
        lines.append(f'"{name}": {value}')
    if any("\r" in line or "\n" in line for line in lines):
        raise AAuthError("line break", code="invalid_component")
    lines.append("" if base == "demo-2026-01" else f'"@signature-params": {params.serialize()}')
    text = "\n".join(lines)
    if not text.isascii():
        raise AAuthError("not ASCII", code="invalid_component")
    return text.encode("ascii")


def test_the_planned_signature_base_agrees_with_component_value() -> None:
    rng = random.Random(2026)
    taken = {"ok": 0, "refused": 0}
    for view, params, base in base_cases(rng):
        expected = outcome(lambda: _general_base(view, params, base))
        got = outcome(lambda: signature_base(view, params, base=base))
        assert got == expected, (view, params, base)
        taken[got[0]] += 1
    assert min(taken.values()) > CASES // 10, taken


# ----------------------------------------------------------------------------- required components


def coverage_cases(rng: random.Random) -> Iterator[tuple[RequestView, SignatureParams]]:
    for _ in range(CASES):
        pairs = []
        if rng.random() < 0.3:
            pairs.append(("content-length", rng.choice(["0", " 0 ", "", "5", "00", " "])))
        if rng.random() < 0.15:
            pairs.append(("transfer-encoding", "chunked"))
        if rng.random() < 0.25:
            pairs.append(("nonce", "n-1"))
        view = RequestView(
            method="POST", authority="api.example", path="/x",
            query=rng.choice([None, None, "", "a=1"]),
            headers=_headers(rng, pairs),
            body=rng.choice([None, None, b"", b"{}"]),
        )
        required = list(coverage.required_components(view))
        components = required if rng.random() < 0.4 else rng.sample(COMPONENTS, rng.randint(0, 9))
        if rng.random() < 0.3 and components:
            components = [c for c in components if c != rng.choice(components)]  # leave one out
        yield view, SignatureParams("sig1", tuple(rng.sample(components, len(components))), created=1)


def _general_check_components(params: SignatureParams, view: RequestView) -> None:
    missing = [c for c in coverage.required_components(view) if c not in params.components]
    if missing:
        raise AAuthError(", ".join(missing), code="missing_component")


def test_the_coverage_shortcut_agrees_with_listing_what_is_missing() -> None:
    rng = random.Random(923)
    taken = {"ok": 0, "refused": 0}
    for view, params in coverage_cases(rng):
        expected = outcome(lambda: _general_check_components(params, view))
        got = outcome(lambda: coverage.check_components(params, view))
        assert got == expected, (view, params)
        taken[got[0]] += 1
    assert min(taken.values()) > CASES // 10, taken


# ----------------------------------------------------------------------------- strict HTTP fields


@contextmanager
def _unlimited_int_digits() -> Iterator[None]:
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(limit)


def test_bounded_int_agrees_with_int() -> None:
    """The length shortcut never converts past the bound; the answer is still ``min(int(text), bound)``."""
    rng = random.Random(9110)
    bounds = [0, 1, 9, 10, 99, 100, 3600, 86_400, 2**31, 10**18]
    taken = {"shortcut": 0, "int": 0, "none": 0}
    with _unlimited_int_digits():
        for _ in range(CASES):
            bound = rng.choice(bounds)
            length = rng.choice([1, 2, 3, 5, len(str(bound)), len(str(bound)) + 1, 20, 400, 5000])
            text = "0" * rng.choice([0, 0, 1, 30]) + "".join(rng.choices("0123456789", k=length))
            if rng.random() < 0.2:
                text = mutate(rng, text)
            expected = min(int(text), bound) if text.isascii() and text.isdigit() else None
            assert http_fields.bounded_int(text, bound) == expected, (text, bound)
            digits = text.lstrip("0") or "0"
            taken["none" if expected is None else "shortcut" if len(digits) > len(str(bound)) else "int"] += 1
    assert min(taken.values()) > CASES // 20, taken


def test_splitting_a_list_field_without_quotes_agrees_with_the_quote_aware_scan() -> None:
    rng = random.Random(9111)
    taken = {"split": 0, "scan": 0}
    for _ in range(CASES):
        text = "".join(rng.choice(['a', "b", "=", ",", " ", "\t", "1", "\\", "\u00e9", '"'])
                       for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.5:
            text = text.replace('"', "")
        assert http_fields._elements(text) == http_fields._split_outside_quotes(text), text
        taken["scan" if '"' in text else "split"] += 1
    assert min(taken.values()) > CASES // 10, taken
