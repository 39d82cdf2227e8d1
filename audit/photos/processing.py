"""Checking and cleaning an uploaded inspection photo: pure image handling, no Flask and no database.

An upload is trusted for nothing: its format is read from its content, its size is checked before any pixel is
decoded, and what is kept is a fresh JPEG that carries no metadata from the camera (no EXIF, XMP or comments),
except the GPS position when the caller asks for it.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Final, Literal

from PIL import ExifTags, Image, ImageFile, ImageOps

RejectionCode = Literal["too_large", "not_an_image", "unsupported_format", "too_many_pixels", "corrupt"]

JPEG_QUALITY: Final = 85
# Formats accepted, as Pillow names them; an MPO is a JPEG with extra pictures after it (some cameras write them).
_ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
_FORMAT_ALIASES: Final = {"MPO": "JPEG"}
# What Pillow raises for damaged or hostile input: its decoders and plugins use all of these.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)
# Image formats that are recognised only to tell the user that they are not accepted.
_OTHER_IMAGE_SIGNATURES: Final = (
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # Photoshop
    b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000
    b"\x00\x00\x00\x0cJXL ",  # JPEG XL container
    b"\xff\x0a",  # JPEG XL codestream
    b"qoif",
)
_BMP_HEADER_SIZES: Final = frozenset({12, 40, 52, 56, 64, 108, 124})
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"})
_MAX_EXIF_BYTES: Final = 60_000  # a JPEG APP1 segment holds at most 65,533 bytes

_MESSAGES: Final[dict[str, str]] = {
    "too_large": "The photo is too large.",
    "not_an_image": "The file is not an image.",
    "unsupported_format": "This image format is not accepted: use JPEG, PNG or WebP.",
    "too_many_pixels": "The photo has too many pixels.",
    "corrupt": "The image file is damaged or incomplete.",
}


class PhotoRejected(Exception):
    """An upload that is not accepted as a photo; ``code`` says why, the message is fit to show to the user."""

    def __init__(self, code: RejectionCode, message: str | None = None) -> None:
        self.code: RejectionCode = code
        self.message = message or _MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class ProcessedPhoto:
    """A cleaned photo, re-encoded as JPEG, with its thumbnail."""

    data: bytes
    thumbnail: bytes
    media_type: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    sha256: str
    source_format: str
    kept_location: bool


def process_photo(
    raw: bytes,
    *,
    max_bytes: int,
    max_dimension: int = 2048,
    thumbnail_dimension: int = 320,
    keep_location: bool = False,
    max_pixels: int = 50_000_000,
) -> ProcessedPhoto:
    """Check an uploaded photo and return it upright, downscaled and re-encoded; raise PhotoRejected if unfit."""
    if len(raw) > max_bytes:
        raise PhotoRejected("too_large", f"The photo is larger than {max_bytes / 1_000_000:.3g} MB.")
    try:
        # Pillow warns about (and at twice its limit refuses) images it thinks are decompression bombs.
        with warnings.catch_warnings(action="error", category=Image.DecompressionBombWarning):
            return _process(raw, max_dimension, thumbnail_dimension, keep_location, max_pixels)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("too_many_pixels") from exc
    except Image.UnidentifiedImageError as exc:
        raise PhotoRejected(_unidentified_code(raw)) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoRejected("corrupt") from exc


def _process(
    raw: bytes, max_dimension: int, thumbnail_dimension: int, keep_location: bool, max_pixels: int
) -> ProcessedPhoto:
    """The steps of process_photo, free to raise Pillow's own errors."""
    image, source_format = _decode(raw, max_dimension, max_pixels)
    gps = _gps_ifd(image) if keep_location else {}
    exif = _gps_exif(gps)
    icc_profile = _rgb_icc_profile(image)
    image = _fit(_to_rgb(_upright(image)), max_dimension)
    thumbnail = _fit(image, thumbnail_dimension)
    data = _encode_jpeg(image, exif=exif, icc_profile=icc_profile)
    return ProcessedPhoto(
        data=data,
        thumbnail=_encode_jpeg(thumbnail, exif=b"", icc_profile=icc_profile),
        media_type="image/jpeg",
        width=image.width,
        height=image.height,
        thumb_width=thumbnail.width,
        thumb_height=thumbnail.height,
        sha256=hashlib.sha256(data).hexdigest(),
        source_format=source_format,
        kept_location=bool(exif),
    )


def _decode(raw: bytes, max_dimension: int, max_pixels: int) -> tuple[Image.Image, str]:
    """Open the image from its content, check its size from the header, then decode its pixels."""
    image = Image.open(io.BytesIO(raw), formats=_ACCEPTED_FORMATS)
    source_format = _FORMAT_ALIASES.get(image.format or "", image.format or "")
    if source_format not in _ACCEPTED_FORMATS:
        raise PhotoRejected("unsupported_format")
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoRejected("too_many_pixels", f"The photo has more than {max_pixels:,} pixels.")
    if source_format == "JPEG" and max(image.size) > max_dimension:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale where that still leaves twice the pixels needed.
        target = _fitted_size(image.size, max_dimension)
        image.draft(None, (target[0] * 2, target[1] * 2))
    _load_whole(image)
    return image, source_format


def _load_whole(image: Image.Image) -> None:
    """Decode every pixel and refuse a truncated file, even after WeasyPrint (imported for the PDFs) has told Pillow,
    for the whole process, to fill in truncated images instead of failing."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _unidentified_code(raw: bytes) -> RejectionCode:
    """Why content that Pillow could not open as JPEG, PNG or WebP is refused."""
    if raw.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"):
        return "corrupt"
    if raw.startswith(_OTHER_IMAGE_SIGNATURES) or _is_bmp(raw) or _is_heif(raw):
        return "unsupported_format"
    return "not_an_image"


def _is_bmp(raw: bytes) -> bool:
    return raw[:2] == b"BM" and int.from_bytes(raw[14:18], "little") in _BMP_HEADER_SIZES


def _is_heif(raw: bytes) -> bool:
    """HEIC and AVIF, what many tablets and phones save by default."""
    return raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS


def _gps_ifd(image: Image.Image) -> dict[int, object]:
    """The GPS tags of the image's EXIF, or nothing if there are none or they cannot be read."""
    try:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))
    except _DECODE_ERRORS:
        return {}


def _gps_exif(gps: dict[int, object]) -> bytes:
    """EXIF that holds only the given GPS tags, or b"" if there are none or they cannot be written back."""
    if not gps:
        return b""
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = gps
    try:
        data = exif.tobytes()
    except _DECODE_ERRORS:
        return b""
    return data if len(data) <= _MAX_EXIF_BYTES else b""


def _rgb_icc_profile(image: Image.Image) -> bytes | None:
    """The colour profile, kept so that colours stay true, but only if it describes RGB like the output does."""
    profile = image.info.get("icc_profile")
    if isinstance(profile, bytes) and profile[16:20] == b"RGB ":
        return profile
    return None


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; unchanged if that orientation cannot be read."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except _DECODE_ERRORS:
        return image
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """The image in 8-bit RGB, with any transparency laid onto white."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit greyscale: scale to 8 bits instead of letting everything above 255 turn white.
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    return image if image.mode == "RGB" else image.convert("RGB")


def _fitted_size(size: tuple[int, int], limit: int) -> tuple[int, int]:
    """The size scaled so that its longest side is at most limit, keeping the aspect ratio; never larger."""
    width, height = size
    longest = max(width, height)
    if longest <= limit:
        return size
    scale = limit / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(image: Image.Image, limit: int) -> Image.Image:
    """The image downscaled with Lanczos so that its longest side is at most limit."""
    target = _fitted_size(image.size, limit)
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode_jpeg(image: Image.Image, *, exif: bytes, icc_profile: bytes | None) -> bytes:
    """The image as a progressive JPEG with only the metadata given here."""
    # Pillow copies some fields (the JPEG comment) from the image's info when saving: start from nothing.
    image.info = {}
    options: dict[str, object] = {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
    if exif:
        options["exif"] = exif
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()
