"""A malicious upload corpus, made here: every file an attacker (or a broken client) might send as a photo.

Each entry says what must become of it: "stored" (re-encoded to a clean JPEG) or the refusal's code. `payload` is a
byte string that must never reach the stored file (a script, an archive, the camera's position).
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from dataclasses import dataclass

from PIL import ExifTags, Image

MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    #: "stored", or the PhotoRejected code the upload must get.
    outcome: str
    #: Bytes that must not be in what is stored.
    payload: bytes = b""
    filename: str = "photo.jpg"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise(size: tuple[int, int], seed: int = 7) -> Image.Image:
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Cameraco"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (59.0, 19.0, 33.6),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (18.0, 4.0, 7.2),
    }
    return exif


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims another size, as a decompression bomb's does."""
    png = encode(Image.new("1", (1, 1)), "PNG")
    ihdr = png[12:16] + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(encode(noise((16, 16)), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A small lossy WebP whose VP8 frame header claims another size (14 bits each)."""
    data = bytearray(encode(noise((16, 16)), "WEBP"))
    assert data[12:16] == b"VP8 "
    data[26:30] = struct.pack("<HH", width, height)
    return bytes(data)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_png_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with one more chunk before its image data."""
    at = png.index(b"IDAT") - 4
    return png[:at] + png_chunk(kind, body) + png[at:]


def with_jpeg_comment(jpeg: bytes, comment: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


SCRIPT = b"<script>alert(document.cookie)</script>"
PHP = b"<?php system($_GET['c']); ?>"
GPS_MARK = b"GPS"  # the stored file carries no EXIF at all, so not the tag's name either: checked by segments


@functools.cache
def corpus() -> list[Upload]:
    jpeg = encode(noise((64, 48)), "JPEG")
    png = encode(noise((64, 48)), "PNG")
    webp = encode(noise((64, 48)), "WEBP")
    frames = [noise((32, 32), seed=n) for n in range(3)]
    zip_file = b"PK\x03\x04" + bytes(26) + b"evil.jsp" + b"<% Runtime.exec(request) %>" + b"PK\x05\x06" + bytes(18)
    return [
        # Decompression bombs and huge dimensions: refused from the header, before any pixel is decoded.
        Upload("png-claiming-100k-square", png_claiming(100_000, 100_000), "too_many_pixels"),
        Upload("png-claiming-50-mpx", png_claiming(7070, 7070), "too_many_pixels"),
        Upload("png-line-of-39-mpx", png_claiming(1, 39_000_000), "too_many_pixels"),
        Upload("png-real-56-mpx-bilevel", encode(Image.new("1", (8000, 7000)), "PNG"), "too_many_pixels"),
        Upload("jpeg-claiming-65535-square", jpeg_claiming(65_535, 65_535), "too_many_pixels"),
        Upload("webp-claiming-16383-square", webp_claiming(16383, 16383), "too_many_pixels"),
        Upload("webp-claiming-9000-by-5000", webp_claiming(9000, 5000), "too_many_pixels"),
        Upload("over-the-size-limit", b"\xff\xd8\xff\xe0" + bytes(15 * MB + 10), "too_large"),
        # Truncated and damaged files.
        Upload("jpeg-truncated", jpeg[: len(jpeg) // 2], "corrupt"),
        Upload("png-truncated", png[: len(png) // 2], "corrupt"),
        Upload("webp-truncated", webp[: len(webp) // 2], "corrupt"),
        Upload("png-bit-flipped", png[:200] + bytes([png[200] ^ 0xFF]) + png[201:], "corrupt"),
        Upload("jpeg-signature-only", b"\xff\xd8\xff", "corrupt"),
        Upload("empty", b"", "not_an_image"),
        # Other things named .jpg.
        Upload(
            "svg-with-script",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>",
            "not_an_image",
        ),
        Upload("html", b"<!doctype html><html><body>" + SCRIPT + b"</body></html>", "not_an_image"),
        Upload("pdf", b"%PDF-1.7\n1 0 obj << /OpenAction << /JS (app.alert(1)) >> >> endobj\n%%EOF\n", "not_an_image"),
        Upload("php", PHP, "not_an_image"),
        Upload("zip", zip_file, "not_an_image"),
        Upload("nul-bytes", bytes(4096), "not_an_image"),
        Upload("gif-javascript-polyglot", b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1)//;", "unsupported_format"),
        Upload(
            "gif-multi-frame",
            encode(frames[0].convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames[1:]]),
            "unsupported_format",
        ),
        Upload(
            "tiff-multi-frame", encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]), "unsupported_format"
        ),
        Upload("bmp", encode(noise((20, 20)), "BMP"), "unsupported_format"),
        Upload("ico", encode(noise((20, 20)), "ICO"), "unsupported_format"),
        Upload("heic", b"\x00\x00\x00\x18ftypheic" + bytes(40), "unsupported_format"),
        Upload("photoshop", b"8BPS\x00\x01" + bytes(60), "unsupported_format"),
        # Real images that carry something else: stored only as a fresh JPEG of their pixels.
        Upload("jpeg-then-zip-polyglot", jpeg + zip_file, "stored", payload=b"PK\x03\x04"),
        Upload("jpeg-with-script-comment", with_jpeg_comment(jpeg, SCRIPT), "stored", payload=b"<script"),
        Upload(
            "jpeg-with-php-in-exif",
            encode(noise((64, 48)), "JPEG", exif=_exif_with_text(PHP)),
            "stored",
            payload=b"<?php",
        ),
        Upload(
            "png-with-html-text-chunk",
            with_png_chunk(png, b"tEXt", b"Comment\x00" + SCRIPT),
            "stored",
            payload=b"<script",
        ),
        Upload("jpeg-with-gps", encode(noise((64, 48)), "JPEG", exif=gps_exif()), "stored", payload=b"Cameraco"),
        Upload("png-with-gps", encode(noise((64, 48)), "PNG", exif=gps_exif()), "stored", payload=b"Cameraco"),
        Upload("webp-with-gps", encode(noise((64, 48)), "WEBP", exif=gps_exif()), "stored", payload=b"Cameraco"),
        Upload("png-animated", encode(frames[0], "PNG", save_all=True, append_images=frames[1:]), "stored"),
        Upload("webp-animated", encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]), "stored"),
        Upload("jpeg-cmyk", encode(Image.new("CMYK", (40, 30), (0, 255, 0, 0)), "JPEG"), "stored"),
        Upload("png-16-bit-grey", encode(Image.new("I;16", (40, 30), 40000), "PNG"), "stored"),
        # Hostile file names: the name is never used.
        Upload("name-traversal", jpeg, "stored", filename="../../../../etc/cron.d/evil.jpg"),
        Upload("name-windows-traversal", jpeg, "stored", filename="..\\..\\windows\\win.ini"),
        Upload("name-html", jpeg, "stored", filename="<img src=x onerror=alert(1)>.jpg"),
        # A double quote as browsers send it in a multipart header (a raw one ends the name for the parser).
        Upload("name-quote", jpeg, "stored", filename="%22><svg onload=alert(1)>.jpg"),
        Upload("name-very-long", jpeg, "stored", filename="a" * 5000 + ".jpg"),
        Upload("name-double-extension", jpeg, "stored", filename="shell.php.jpg"),
        Upload("name-unicode-rtl", jpeg, "stored", filename="foto\u202egpj.exe"),
    ]


def _exif_with_text(text: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = text.decode()
    return exif
