"""Checking and cleaning an uploaded inspection photo: pure image handling, no Flask and no database.

An upload is trusted for nothing: its format is read from its content, its size is checked before any pixel is
decoded, and what is kept is a fresh JPEG that carries no metadata from the camera (no EXIF, XMP or comments),
except the GPS position when the caller asks for it.

Memory is bounded before decoding: a file of a few kilobytes can claim millions of pixels. The header's pixel
count must fit a tablet camera (`MAX_PIXELS`); a JPEG is decoded by libjpeg at the smallest scale (1/2, 1/4, 1/8)
that still covers nine tenths of the size kept (and kept at that size when it is below the limit); and what the
decoded pixels and the one full-size copy that cleaning makes would take together must fit `MAX_DECODED_BYTES`.
Everything after that works on the downscaled picture.
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
from PIL.JpegImagePlugin import JpegImageFile

RejectionCode = Literal["too_large", "not_an_image", "unsupported_format", "too_many_pixels", "corrupt", "busy"]

JPEG_QUALITY: Final = 85
#: Most pixels a photo may claim in its header: what a 40-megapixel tablet or phone camera takes.
MAX_PIXELS: Final = 40_000_000
#: Most memory that decoding and cleaning one photo may take, as `_decoding_cost` reckons it from the header; with
#: what the decoders and the encoder add besides, one upload raises a worker's memory by less than 150 MB.
MAX_DECODED_BYTES: Final = 110 * 1024 * 1024
#: What a decoder holds per pixel besides the image: Pillow's WebP decoder keeps libwebp's RGBA canvas and a copy.
_DECODER_BYTES_PER_PIXEL: Final = {"WEBP": 8}
_REDUCING_GAP: Final = 2.0
#: A JPEG decoded at a reduced scale whose longest side is at least this share of the limit is kept at that size:
#: a tablet's 4000 × 3000 photo is decoded at half scale and kept at 2000 × 1500. Resizing it from the full 12
#: megapixels to 2048 × 1536 instead took four fifths of its processing (0.4 of 0.5 s) for 2 % more on each side.
_DRAFT_SHARE: Final = 0.9
WHITE: Final = (255, 255, 255)
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
    "busy": "Too many photos are being processed right now; try again in a moment.",
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
    max_pixels: int = MAX_PIXELS,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
) -> ProcessedPhoto:
    """Check an uploaded photo and return it upright, downscaled and re-encoded; raise PhotoRejected if unfit."""
    if len(raw) > max_bytes:
        raise PhotoRejected("too_large", f"The photo is larger than {max_bytes / 1_000_000:.3g} MB.")
    try:
        # Pillow warns about (and at twice its limit refuses) images it thinks are decompression bombs.
        with warnings.catch_warnings(action="error", category=Image.DecompressionBombWarning):
            source, source_format = _decode(raw, max_dimension, max_pixels, max_decoded_bytes)
            return _process(source, source_format, max_dimension, thumbnail_dimension, keep_location)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("too_many_pixels") from exc
    except Image.UnidentifiedImageError as exc:
        raise PhotoRejected(_unidentified_code(raw)) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoRejected("corrupt") from exc


def _process(
    source: Image.Image, source_format: str, max_dimension: int, thumbnail_dimension: int, keep_location: bool
) -> ProcessedPhoto:
    """The steps of process_photo after decoding, free to raise Pillow's own errors."""
    exif = _gps_exif(_gps_ifd(source)) if keep_location else b""
    icc_profile = _rgb_icc_profile(source)
    orientation = _orientation(source)
    image = _flatten(source)
    del source  # the full-size decode is not needed any more: free it before resizing
    image = _upright(_fit(image, max_dimension), orientation).convert("RGB")
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


def _decode(raw: bytes, max_dimension: int, max_pixels: int, max_decoded_bytes: int) -> tuple[Image.Image, str]:
    """Open the image from its content, check its size from the header, then decode its pixels."""
    image = Image.open(io.BytesIO(raw), formats=_ACCEPTED_FORMATS)
    source_format = _FORMAT_ALIASES.get(image.format or "", image.format or "")
    if source_format not in _ACCEPTED_FORMATS:
        raise PhotoRejected("unsupported_format")
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoRejected("too_many_pixels", f"The photo has more than {max_pixels:,} pixels.")
    if source_format == "JPEG" and max(image.size) > max_dimension:
        # libjpeg decodes at the smallest of 1/2, 1/4 or 1/8 scale that still covers most of the size kept.
        image.draft(None, _fitted_size(image.size, int(max_dimension * _DRAFT_SHARE)))
    if _decoding_cost(image, header_pixels=width * height, max_dimension=max_dimension) > max_decoded_bytes:
        raise PhotoRejected("too_many_pixels", "The photo has too many pixels to be processed.")
    _load_whole(image)
    return image, source_format


def _decoding_cost(image: Image.Image, *, header_pixels: int, max_dimension: int) -> int:
    """The bytes that decoding the image at its (drafted) size and cleaning it take at most, known from its header.

    The decoded pixels with the decoder's own buffers, the one full-size copy `_flatten` makes, a pointer per line
    of each (which is what a picture of 1 × 30,000,000 pixels costs), and the resize's intermediate picture.
    """
    width, height = image.size
    per_pixel = _bytes_per_pixel(image) + _DECODER_BYTES_PER_PIXEL.get(image.format or "", 0)
    target_width, target_height = _fitted_size(image.size, max_dimension)
    reduced_height = height // max(1, int(height / target_height / _REDUCING_GAP))
    resize = target_width * reduced_height * 4
    return width * height * per_pixel + height * 8 * 2 + resize + _jpeg_coefficients(image, header_pixels)


def _jpeg_coefficients(image: Image.Image, pixels: int) -> int:
    """What libjpeg holds to decode a progressive JPEG: every DCT coefficient of the full-size picture, 2 bytes each
    (a baseline JPEG is decoded a few lines at a time)."""
    if not isinstance(image, JpegImageFile) or not image.info.get("progressive") or not image.layer:
        return 0
    most = max(h * v for _, h, v, _ in image.layer)
    return int(pixels * 2 * sum(h * v for _, h, v, _ in image.layer) / most)


def _bytes_per_pixel(image: Image.Image) -> int:
    """Memory per pixel, known from the header, that decoding and `_flatten` take together at full size."""
    mode = image.mode
    stored = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4  # as Pillow keeps the pixels
    if mode == "P" and image.has_transparency_data:
        return stored + 1 + 4  # the mask and the RGB copy
    if image.has_transparency_data and mode not in ("RGBA", "LA"):
        return stored + 4 + 4  # an RGBA copy, then the RGB one
    if mode in ("L", "RGB"):
        return stored
    if mode == "1" or mode.startswith("I;16"):
        return stored + 1  # the 8-bit greyscale copy
    return stored + 4  # the RGB copy


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


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag, or None if there is none or it cannot be read."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation)
    except _DECODE_ERRORS:
        return None
    return value if isinstance(value, int) else None


def _upright(image: Image.Image, orientation: int | None) -> Image.Image:
    """The (downscaled) image turned as the source's EXIF orientation says."""
    if orientation is None:
        return image
    # Turned after downscaling, so no full-size copy is made: Pillow's own mapping from the tag does the turning.
    image.getexif()[ExifTags.Base.Orientation] = orientation
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image


def _flatten(image: Image.Image) -> Image.Image:
    """The full-size image as 8-bit greyscale or RGB with any transparency laid onto white.

    Makes at most one full-size copy (counted by `_bytes_per_pixel`), and no RGBA one for an image without an
    alpha band.
    """
    if image.mode == "P" and image.has_transparency_data:
        image.apply_transparency()  # the palette gets the alpha values
        alphas = (image.getpalette("RGBA") or [])[3::4]
        # How transparent each palette index is; indices past the palette's end are opaque.
        transparent = image.point([255 - alpha for alpha in alphas] + [0] * (256 - len(alphas)), "L")
        flat = image.convert("RGB")
        flat.paste(WHITE, (0, 0, *flat.size), transparent)
        return flat
    if image.has_transparency_data and image.mode not in ("RGBA", "LA"):
        image = image.convert("RGBA")  # one colour marked transparent: rare, and counted
    if image.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", image.size, WHITE)
        flat.paste(image, mask=image)
        return flat
    if image.mode.startswith("I;16"):
        # 16-bit greyscale: scale to 8 bits instead of letting everything above 255 turn white.
        return image.point(lambda value: value / 257, "L")
    if image.mode == "1":
        return image.convert("L")
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


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
    # Averaged down by a whole factor first (as Pillow's thumbnail() does), so the resize's intermediate is small.
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _encode_jpeg(image: Image.Image, *, exif: bytes, icc_profile: bytes | None) -> bytes:
    """The image as a baseline JPEG with optimised Huffman tables and only the metadata given here.

    Not progressive: encoding a 2000 × 1500 photo progressively took about twice as long (every photo a tablet
    sends waits for it) for a file about 2 % smaller, and a photo is opened whole, on a page or in a report."""
    # Pillow copies some fields (the JPEG comment) from the image's info when saving: start from nothing.
    image.info = {}
    options: dict[str, object] = {"quality": JPEG_QUALITY, "optimize": True}
    if exif:
        options["exif"] = exif
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()
