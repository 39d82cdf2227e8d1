"""Reading produced PDFs as a person or a phone would: their text, page size, images and QR codes (poppler, zbar)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (Debian: poppler-utils, zbar-tools)"
    return path


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_info(data: bytes) -> str:
    return subprocess.run([_tool("pdfinfo"), "-"], input=data, capture_output=True, check=True).stdout.decode()


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    (tmp_path / "fonts.pdf").write_bytes(data)
    return subprocess.run(
        [_tool("pdffonts"), "fonts.pdf"], cwd=tmp_path, capture_output=True, check=True
    ).stdout.decode()


def pdf_images(data: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """pdfimages' listing: one row per image, keyed by its column names (`width`, `height`, `interp`, …)."""
    (tmp_path / "images.pdf").write_bytes(data)
    header, _rule, *rows = (
        subprocess.run([_tool("pdfimages"), "-list", "images.pdf"], cwd=tmp_path, capture_output=True, check=True)
        .stdout.decode()
        .splitlines()
    )
    names = header.replace("object ID", "object generation").split()  # an ID is two numbers: "15 0"
    return [dict(zip(names, row.split(), strict=True)) for row in rows]


def pdf_image_count(data: bytes, tmp_path: Path) -> int:
    return len(pdf_images(data, tmp_path))


def qr_codes(data: bytes, tmp_path: Path, resolution: int = 100, page: int = 1) -> list[str]:
    """Render one page (the first) to PNG, as a printer would, and decode every QR code on it with zbarimg."""
    (tmp_path / "page.pdf").write_bytes(data)
    pages = ["-f", str(page), "-l", str(page)]
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", str(resolution), *pages, "-singlefile", "page.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    found = subprocess.run(
        [_tool("zbarimg"), "--quiet", "--raw", "page.png"], cwd=tmp_path, capture_output=True, check=False, text=True
    )
    return found.stdout.split()
