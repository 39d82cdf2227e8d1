"""`audit.qr.make_qr` makes exactly segno's symbol, mask included, only faster (pure Python, no app)."""

from __future__ import annotations

import base64
import random
import string

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.qr import QrSymbol, make_qr

URL_CHARACTERS = string.ascii_letters + string.digits + "-_.~:/?#[]@!$&'()*+,;=%"


def segno_symbol(text: str) -> tuple[int, int, tuple[bytes, ...]]:
    code = segno.make(text, error="m", micro=False)
    return code.version, code.mask, tuple(bytes(row) for row in code.matrix)


def as_tuple(symbol: QrSymbol) -> tuple[int, int, tuple[bytes, ...]]:
    return symbol.version, symbol.mask, symbol.rows


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=URL_CHARACTERS, min_size=1, max_size=300))
def test_the_symbol_is_segnos_for_any_url_like_text(text: str) -> None:
    assert as_tuple(make_qr(text)) == segno_symbol(text)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_the_symbol_is_segnos_for_any_text(text: str) -> None:
    """Digits, upper case and Unicode take segno's other encoding modes; the symbol is still its own."""
    assert as_tuple(make_qr(text)) == segno_symbol(text)


def test_verification_urls_use_every_mask_and_match_segno() -> None:
    """Verification URLs (version 4 for the demo's address) reach all eight masks, each chosen as segno does.

    The tokens come from a seeded generator so that the rarest mask (under 1 % of URLs) is always among them.
    """
    tokens = random.Random(2026)
    masks = set()
    for _ in range(600):
        url = f"https://trygga-hus.example.se/v/{base64.urlsafe_b64encode(tokens.randbytes(16)).decode().rstrip('=')}"
        symbol = make_qr(url)
        assert as_tuple(symbol) == segno_symbol(url)
        masks.add(symbol.mask)
    assert masks == set(range(8))


@pytest.mark.parametrize("length", [1, 20, 60, 140, 250, 600])
def test_each_version_size_matches(length: int) -> None:
    """Short texts give small symbols, long ones large symbols with version information (version 7 and up)."""
    text = ("Trygga hus " * 60)[:length]
    symbol = make_qr(text)
    assert symbol.size == 17 + 4 * symbol.version
    assert all(len(row) == symbol.size and set(row) <= {0, 1} for row in symbol.rows)
    assert as_tuple(symbol) == segno_symbol(text)
