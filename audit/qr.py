"""QR codes made by segno, with its data mask chosen about ten times faster (pure Python, no Flask).

A QR code's data is XOR-ed with one of eight mask patterns; ISO/IEC 18004 §7.8.3 asks for the one whose symbol has
the lowest penalty (long runs, 2×2 blocks, finder-like patterns, an uneven dark share). segno scores the eight
candidates module by module in Python: 4 to 8 ms for a verification URL, where the rest of the sign takes about
18 ms. `make_qr` asks segno for the symbol once, with mask 0, derives the other seven candidates from it with all
rows and columns packed into one integer, scores them with integer operations that follow segno's own scoring
rule for rule, and puts the winner's format information in with segno's own function. The result is the same
symbol as `segno.make(text, error="m", micro=False)`, module for module and mask for mask: `tests/test_qr.py`
checks that over hundreds of generated texts, 600 verification URLs (all eight masks) and symbols of sizes from
version 1 to version 19.

It relies on a few of segno's module-level helpers (`segno.encoder`), which is why segno's version is pinned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import segno
from segno import consts, encoder

#: Error correction M: a sign can lose 15 % of its code to dirt or a scratch and still be read.
ERROR_LEVEL = "m"


@dataclass(frozen=True, slots=True)
class QrSymbol:
    """A QR code symbol without its quiet zone: `rows[i][j]` is 1 for a dark module."""

    version: int
    mask: int
    rows: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return len(self.rows)


#: Each row and each column of a symbol is a field of this many bits more than the symbol's width in one big int,
#: so that one integer operation works on all of them and shifts never carry a module into the next line.
_GAP = 8


@dataclass(frozen=True, slots=True)
class _Layout:
    """What every symbol of one version shares, as packed lines (see `_pack`).

    `fixed` holds the function patterns as they stand while masks are scored (format and version areas still
    light), `data` marks the data modules, `masks[k]` the data modules that mask k darkens. The other fields are
    bit masks over the packed lines for the scoring rules.
    """

    size: int
    fixed: int
    data: int
    masks: tuple[int, ...]
    rows: int  # every module of the rows (the first `size` lines)
    all_but_last: int  # every module but each line's last
    upper_rows_but_last: int  # the same, in every row but the last: where a 2×2 block can start

    @property
    def field(self) -> int:
        return self.size + _GAP


def _bits(values: Iterable[int]) -> int:
    """A line of 0/1 module values as an int whose most significant bit is the line's first module."""
    bits = 0
    for value in values:
        bits = (bits << 1) | value
    return bits


def _pack(matrix: Sequence[Sequence[int]]) -> int:
    """The matrix's rows, then its columns, each in a field of `size + _GAP` bits; row 0 in the lowest field,
    each line's first module in its field's highest used bit, with `_GAP` zero bits below every line."""
    size = len(matrix)
    field = size + _GAP
    packed = 0
    for index, line in enumerate((*matrix, *zip(*matrix, strict=True))):
        packed |= _bits(line) << (index * field + _GAP)
    return packed


def _line_masks(size: int, lines: int, width: int) -> int:
    """In each of the first `lines` fields, the lowest `width` bits of its line."""
    return sum(((1 << width) - 1) << (index * (size + _GAP) + _GAP) for index in range(lines))


@cache
def _layout(version: int) -> _Layout:
    size = encoder.calc_matrix_size(version)
    template = encoder.make_matrix(size, size)  # timing patterns, reserved format/version areas (0), data (0x2)
    encoder.add_finder_patterns(template, size, size)
    encoder.add_alignment_patterns(template, size, size)
    data = [[int(value == 0x2) for value in row] for row in template]
    masks = tuple(
        _pack([[int(bool(pattern(i, j))) & data[i][j] for j in range(size)] for i in range(size)])
        for pattern in encoder.get_data_mask_functions(False)
    )
    return _Layout(
        size=size,
        fixed=_pack([[int(value == 0x1) for value in row] for row in template]),
        data=_pack(data),
        masks=masks,
        rows=_line_masks(size, size, size),
        all_but_last=_line_masks(size, 2 * size, size - 1),
        upper_rows_but_last=_line_masks(size, size - 1, size - 1),
    )


def _finder_like_score(lines: int, layout: _Layout) -> int:
    """Rule N3, exactly as segno counts it: 40 points for each dark-light-dark×3-light-dark pattern at an edge or
    beside four light modules (the edge counts as light), each line searched from its start as segno does."""
    size, field = layout.size, layout.field
    found = lines & ~(lines >> 1) & (lines >> 2) & (lines >> 3) & (lines >> 4) & ~(lines >> 5) & (lines >> 6)
    score, line, next_start = 0, -1, 0
    while found:
        low = found.bit_length() - 1  # the pattern's last module; lines and their modules come highest first
        found ^= 1 << low
        if low // field != line:
            line, next_start = low // field, 0
        start = size - 7 - (low % field - _GAP)  # the pattern's first module, counted from the line's start
        if start < next_start:
            continue
        if start in (0, size - 7) or (lines >> (low + 7)) & 0xF == 0 or (lines >> (low - 4)) & 0xF == 0:
            score += 40
            next_start = start + 7
        else:  # the pattern could start again at its third dark module
            next_start = start + 4
    return score


def penalty(lines: int, layout: _Layout) -> int:
    """The penalty of a masked symbol given as packed lines (see `_pack`): segno's rules N1 to N4."""
    # N1: 3 points for 5 modules of one colour in a line, 1 more for each further one. A run of n ≥ 5 starts
    # n - 4 windows of five alike and scores n - 2.
    same_as_next = ~(lines ^ (lines >> 1)) & layout.all_but_last
    five_alike = same_as_next & (same_as_next >> 1) & (same_as_next >> 2) & (same_as_next >> 3)
    n1 = five_alike.bit_count() + 2 * (five_alike & ~(five_alike >> 1)).bit_count()
    # N2: 3 points for every 2×2 block of one colour (overlapping blocks count).
    rows = lines & layout.rows
    below = rows >> layout.field
    differs = rows ^ below
    uneven = differs | (differs >> 1) | (rows ^ (rows >> 1))
    n2 = 3 * (~uneven & layout.upper_rows_but_last).bit_count()
    # N4: 10 points for every 5 % the dark share is away from half.
    n4 = 10 * int(abs(float(rows.bit_count()) / layout.size**2 * 100 - 50) / 5)
    return n1 + n2 + _finder_like_score(lines, layout) + n4


def make_qr(text: str) -> QrSymbol:
    """The QR code of `text` (error correction M, or higher where it fits the same version), best mask."""
    first = segno.make(text, error=ERROR_LEVEL, micro=False, mask=0)
    version = int(first.version)  # segno's version is a str only for Micro QR codes ("M2")
    layout = _layout(version)
    data = (_pack(first.matrix) & layout.data) ^ layout.masks[0]  # the data as placed, before any mask
    scores = [penalty(layout.fixed | (data ^ mask), layout) for mask in layout.masks]
    best = scores.index(min(scores))  # the first of equals, as segno does
    if best == 0:
        return QrSymbol(version, 0, tuple(bytes(row) for row in first.matrix))
    size, field = layout.size, layout.field
    flip = layout.masks[0] ^ layout.masks[best]
    matrix = tuple(bytearray(row) for row in first.matrix)
    for i, row in enumerate(matrix):
        for j in range(size):
            if flip >> (i * field + _GAP + size - 1 - j) & 1:
                row[j] ^= 1
    encoder.add_format_info(matrix, version, consts.ERROR_MAPPING[first.error], best)
    return QrSymbol(version, best, tuple(bytes(row) for row in matrix))
