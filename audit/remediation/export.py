"""Task lists as CSV and XLSX: pure functions of already translated rows, safe to open in a spreadsheet.

A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage return, which spreadsheets skip before looking
for those) would be run as a formula by Excel or LibreOffice. In CSV, which has no cell types, `neutralise()` puts
an apostrophe in front, which the spreadsheet shows as text and does not evaluate. XLSX has cell types: such a
cell is stored as a string with the "quote prefix" style, so the spreadsheet shows exactly the text (no apostrophe)
and keeps it text when it is edited. Numbers and dates are written as such and never touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

#: What makes a spreadsheet treat a cell as a formula (or skip to the next character to decide).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Semicolon: what Excel expects in Swedish (and many other) locales, where the comma is the decimal sign.
CSV_DELIMITER = ";"

Cell = str | int | float | date | datetime | None


def neutralise(value: Cell) -> Cell:
    """A cell value that a spreadsheet will show as written, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte order mark (so Excel reads å, ä and ö), semicolon separated, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([_text(neutralise(cell)) for cell in header])
    for row in rows:
        writer.writerow([_text(neutralise(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """One worksheet with a bold, frozen header row and an autofilter; text cells stored as text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=False)
    sheet = workbook.worksheets[0]  # the one a new workbook has
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_value(cell) for cell in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never "f": openpyxl would otherwise store "=…" as a formula
                if cell.value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
            elif isinstance(cell.value, date) and cell.row > 1:
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for number, (column, name) in enumerate(zip(sheet.columns, header, strict=False), start=1):
        width = max([len(str(name)), *(len(str(c.value)) for c in list(column)[1:200] if c.value is not None)])
        sheet.column_dimensions[get_column_letter(number)].width = min(60, max(8, width + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(cell: Cell) -> Any:
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None)  # spreadsheets have no time zones; the caller gives local time
    return cell
