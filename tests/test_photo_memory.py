"""The memory one photo upload may take: every photo is processed in a fresh subprocess that reports how far its
peak resident memory rose (VmHWM: `ru_maxrss` is inherited across fork and exec, so it would hide the rise).

The sizes are the largest of each kind that the limits accept, and the bombs the outside test used.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from audit.photos.processing import MAX_PIXELS, PhotoRejected, process_photo

MB = 1024 * 1024
#: The issue's bound for one upload of at most the size limit.
MAX_RISE = 150 * MB
MAX_UPLOAD = 15 * MB

_MEASURE = """
import json, sys
from audit.photos.processing import PhotoRejected, process_photo

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))

raw = open(sys.argv[1], "rb").read()
before = peak()
try:
    photo = process_photo(raw, max_bytes=int(sys.argv[2]))
    outcome = f"{photo.width}x{photo.height}"
except PhotoRejected as exc:
    outcome = exc.code
print(json.dumps({"rise": peak() - before, "outcome": outcome}))
"""


def measured(tmp_path: Path, raw: bytes) -> tuple[int, str]:
    """How far processing the upload raised a fresh process's peak memory, and what came of it."""
    assert len(raw) <= MAX_UPLOAD
    path = tmp_path / "upload"
    path.write_bytes(raw)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(MAX_UPLOAD)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    return result["rise"], result["outcome"]


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def square(mode: str, side: int, colour: object) -> Callable[[], Image.Image]:
    return lambda: Image.new(mode, (side, side), colour)  # type: ignore[arg-type]


CASES = {
    # Reported: a 194 KB PNG of 7,070 × 7,070 RGBA and a 95 KB PNG of 1 × 49,000,000 pixels took about 950 MB.
    "rgba-7070-png": (lambda: Image.new("RGBA", (7070, 7070), (9, 20, 30, 128)), "PNG", {}),
    "line-png": (lambda: Image.new("RGBA", (1, 39_000_000), (9, 20, 30, 128)), "PNG", {}),
    # The largest that the limits accept, per kind (found by halving from the header's reckoning).
    "camera-jpeg-40mpx": (lambda: Image.new("RGB", (7300, 5475), (9, 20, 30)), "JPEG", {}),
    "cmyk-jpeg-40mpx": (lambda: Image.new("CMYK", (7300, 5475), (9, 20, 30, 0)), "JPEG", {}),
    "progressive-jpeg": (square("RGB", 4870, (9, 20, 30)), "JPEG", {"progressive": True}),
    "progressive-444-jpeg": (square("RGB", 3000, (9, 20, 30)), "JPEG", {"progressive": True, "subsampling": 0}),
    "rgb-png": (square("RGB", 4430, (9, 20, 30)), "PNG", {}),
    "rgba-png": (square("RGBA", 3310, (9, 20, 30, 100)), "PNG", {}),
    "palette-png-with-transparency": (
        lambda: Image.new("RGB", (3750, 3750), (1, 2, 3)).quantize(4),
        "PNG",
        {"transparency": 0},
    ),
    "grey-16-bit-png": (square("I;16", 4970, 3000), "PNG", {}),
    "grey-png-40mpx": (lambda: Image.new("L", (7300, 5475), 30), "PNG", {}),
    "bilevel-png": (square("1", 5800, 1), "PNG", {}),
    "grey-png-with-transparent-colour": (square("L", 3150, 30), "PNG", {"transparency": 30}),
    "rgb-webp": (square("RGB", 2765, (9, 20, 30)), "WEBP", {}),
    "rgba-webp": (square("RGBA", 2435, (9, 20, 30, 100)), "WEBP", {"lossless": True}),
}


@pytest.mark.parametrize("case", CASES)
def test_no_photo_raises_a_workers_memory_by_more_than_150_mb(tmp_path: Path, case: str) -> None:
    make, fmt, options = CASES[case]
    rise, outcome = measured(tmp_path, encode(make(), fmt, **options))

    assert rise < MAX_RISE, f"{case}: {rise / MB:.0f} MB ({outcome})"
    assert outcome == "too_many_pixels" or outcome.endswith("x2048") or outcome.startswith("2048x")


def test_a_40_megapixel_camera_photo_is_accepted() -> None:
    raw = encode(Image.new("RGB", (7300, 5475), (9, 20, 30)), "JPEG")

    photo = process_photo(raw, max_bytes=MAX_UPLOAD)

    assert MAX_PIXELS >= 7300 * 5475
    assert (photo.width, photo.height) == (2048, 1536)


def test_the_bombs_are_refused() -> None:
    for make, fmt, options in (CASES["rgba-7070-png"], CASES["line-png"]):
        with pytest.raises(PhotoRejected) as refused:
            process_photo(encode(make(), fmt, **options), max_bytes=MAX_UPLOAD)
        assert refused.value.code == "too_many_pixels"
