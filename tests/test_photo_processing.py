"""Inspection photos: the image checks and cleaning in audit.photos.processing, and the file store.

Every test image is made here in memory with Pillow; no binary fixture is checked in.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import pytest
from PIL import ExifTags, Image

from audit.photos import processing
from audit.photos.processing import PhotoRejected, ProcessedPhoto, process_photo

MB = 1_000_000
LATITUDE = (59.0, 19.0, 33.6)
LONGITUDE = (18.0, 4.0, 7.2)
RED = (255, 0, 0)
WHITE = (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif_with(**base: object) -> Image.Exif:
    exif = Image.Exif()
    for name, value in base.items():
        exif[ExifTags.Base[name]] = value
    return exif


def gps_exif(**base: object) -> Image.Exif:
    exif = exif_with(**base)
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSVersionID: b"\x02\x02\x00\x00",
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: LONGITUDE,
    }
    return exif


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """An RGB image of random pixels: it compresses badly, so a JPEG of it has long scan data."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """The (marker, payload) of each JPEG segment before the first scan."""
    assert jpeg[:2] == b"\xff\xd8"
    found, at = [], 2
    while jpeg[at + 1] != 0xDA:
        length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
        found.append((jpeg[at + 1], jpeg[at + 4 : at + 2 + length]))
        at += 2 + length
    return found


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header is rewritten to claim another size, as a decompression bomb's would."""
    png = encode(Image.new("1", (1, 1)), "PNG")
    ihdr = png[12:16] + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def process(raw: bytes, **options: object) -> ProcessedPhoto:
    return process_photo(raw, max_bytes=options.pop("max_bytes", 20 * MB), **options)  # type: ignore[arg-type]


def rejection(raw: bytes, **options: object) -> str:
    with pytest.raises(PhotoRejected) as caught:
        process(raw, **options)
    assert caught.value.message
    assert str(caught.value) == caught.value.message
    return caught.value.code


# --- what comes out -------------------------------------------------------------------------------------------


def test_exif_orientation_is_applied_to_size_and_pixels() -> None:
    image = Image.new("RGB", (400, 200), WHITE)
    image.paste(RED, (0, 0, 60, 60))  # the top-left corner as stored
    raw = encode(image, "JPEG", exif=exif_with(Orientation=6))

    photo = process(raw)

    assert (photo.width, photo.height) == (200, 400)
    result = opened(photo.data)
    assert result.size == (200, 400)
    # Orientation 6: the stored picture is shown turned 90° clockwise, so its top-left corner is now top-right.
    assert close_to(result.getpixel((185, 15)), RED)
    assert close_to(result.getpixel((15, 15)), WHITE)
    assert close_to(result.getpixel((185, 385)), WHITE)
    assert ExifTags.Base.Orientation not in result.getexif()


def test_output_is_a_baseline_jpeg_with_matching_sha256() -> None:
    photo = process(encode(noise((300, 200)), "JPEG"))

    assert photo.media_type == "image/jpeg"
    assert photo.source_format == "JPEG"
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    result = opened(photo.data)
    assert result.format == "JPEG"
    assert not result.info.get("progressive")  # quicker to make, and opened whole anyway
    assert opened(photo.thumbnail).format == "JPEG"


def test_location_and_all_other_metadata_are_dropped_by_default() -> None:
    exif = gps_exif(Make="Cameraco", Model="Tab 9", DateTime="2024:05:01 10:00:00")
    raw = encode(noise((120, 80)), "JPEG", exif=exif, comment=b"serial 1234", xmp=b"<x:xmpmeta/>")
    assert opened(raw).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the source does carry a position

    photo = process(raw)

    assert photo.kept_location is False
    for data in (photo.data, photo.thumbnail):
        markers = {marker for marker, _ in segments(data)}
        assert 0xE1 not in markers  # APP1: EXIF or XMP
        assert 0xFE not in markers  # COM: a comment
        result = opened(data)
        assert not result.getexif()
        assert "exif" not in result.info
        assert "comment" not in result.info


def test_location_is_kept_alone_when_asked_for() -> None:
    exif = gps_exif(Make="Cameraco", Model="Tab 9", DateTime="2024:05:01 10:00:00")
    raw = encode(noise((120, 80)), "JPEG", exif=exif, comment=b"serial 1234", xmp=b"<x:xmpmeta/>")

    photo = process(raw, keep_location=True)

    assert photo.kept_location is True
    app1 = [payload for marker, payload in segments(photo.data) if marker == 0xE1]
    assert len(app1) == 1
    assert app1[0].startswith(b"Exif\x00\x00")  # no XMP
    result = opened(photo.data)
    assert set(result.getexif()) == {ExifTags.IFD.GPSInfo}  # no make, model, date or orientation
    gps = result.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert tuple(float(value) for value in gps[ExifTags.GPS.GPSLatitude]) == pytest.approx(LATITUDE)
    assert tuple(float(value) for value in gps[ExifTags.GPS.GPSLongitude]) == pytest.approx(LONGITUDE)
    assert "comment" not in result.info
    assert not opened(photo.thumbnail).getexif()  # the thumbnail never carries the position


def test_kept_location_is_false_when_there_was_none() -> None:
    raw = encode(noise((60, 40)), "JPEG", exif=exif_with(Make="Cameraco"))

    photo = process(raw, keep_location=True)

    assert photo.kept_location is False
    assert 0xE1 not in {marker for marker, _ in segments(photo.data)}


def test_a_big_photo_is_downscaled_keeping_its_aspect_ratio() -> None:
    photo = process(encode(Image.new("RGB", (5000, 3000), (30, 90, 160)), "JPEG"))

    assert (photo.width, photo.height) == (2048, 1229)
    assert (photo.thumb_width, photo.thumb_height) == (320, 192)
    assert opened(photo.data).size == (2048, 1229)
    assert opened(photo.thumbnail).size == (320, 192)


def test_a_big_jpeg_decoded_at_reduced_scale_still_gets_the_exact_size() -> None:
    image = Image.new("RGB", (5000, 3000), WHITE)
    image.paste(RED, (0, 0, 2500, 3000))  # left half red
    photo = process(encode(image, "JPEG"), max_dimension=1000, thumbnail_dimension=100)

    assert (photo.width, photo.height) == (1000, 600)
    assert (photo.thumb_width, photo.thumb_height) == (100, 60)
    result = opened(photo.data)
    assert close_to(result.getpixel((250, 300)), RED)
    assert close_to(result.getpixel((750, 300)), WHITE)


def test_a_tablet_cameras_jpeg_is_kept_at_the_half_scale_libjpeg_decodes_it_at() -> None:
    """4000 × 3000 at half scale is 2000 × 1500: within a tenth of the 2048 limit, so it is not decoded at full
    size and resized (which took four fifths of the time), and it is never enlarged to the limit."""
    image = Image.new("RGB", (4000, 3000), WHITE)
    image.paste(RED, (0, 0, 2000, 3000))  # left half red
    photo = process(encode(image, "JPEG"))

    assert (photo.width, photo.height) == (2000, 1500)
    assert close_to(opened(photo.data).getpixel((500, 750)), RED)
    assert close_to(opened(photo.data).getpixel((1500, 750)), WHITE)


def test_a_portrait_photo_is_limited_by_its_height() -> None:
    photo = process(encode(Image.new("RGB", (1500, 3000), WHITE), "PNG"))

    assert (photo.width, photo.height) == (1024, 2048)
    assert (photo.thumb_width, photo.thumb_height) == (160, 320)


def test_a_small_photo_is_not_upscaled() -> None:
    photo = process(encode(noise((1000, 400)), "JPEG"))

    assert (photo.width, photo.height) == (1000, 400)
    assert (photo.thumb_width, photo.thumb_height) == (320, 128)


def test_a_tiny_photo_keeps_its_size_in_the_thumbnail_too() -> None:
    photo = process(encode(noise((100, 50)), "PNG"))

    assert (photo.width, photo.height) == (100, 50)
    assert (photo.thumb_width, photo.thumb_height) == (100, 50)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_png_is_flattened_onto_white(mode: str) -> None:
    image = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 50, 50))
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.convert("RGB").quantize(colors=4)
        image.info["transparency"] = image.getpixel((99, 49))
    raw = encode(image, "PNG")

    photo = process(raw)

    assert photo.source_format == "PNG"
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    result = opened(photo.data)
    assert (result.format, result.mode) == ("JPEG", "RGB")
    assert close_to(result.getpixel((80, 25)), WHITE, tolerance=8)  # was transparent
    assert not close_to(result.getpixel((20, 25)), WHITE)  # was opaque


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_is_accepted_and_becomes_jpeg(lossless: bool) -> None:
    raw = encode(noise((120, 80)), "WEBP", lossless=lossless)

    photo = process(raw)

    assert photo.source_format == "WEBP"
    assert photo.media_type == "image/jpeg"
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    assert opened(photo.data).format == "JPEG"
    assert (photo.width, photo.height) == (120, 80)


def test_an_mpo_from_a_camera_counts_as_jpeg() -> None:
    raw = encode(noise((80, 60)), "MPO", save_all=True, append_images=[noise((80, 60), seed=2)])
    assert opened(raw).format == "MPO"

    photo = process(raw)

    assert photo.source_format == "JPEG"
    assert (photo.width, photo.height) == (80, 60)


def test_sixteen_bit_greyscale_keeps_its_tones() -> None:
    photo = process(encode(Image.new("I;16", (40, 40), 32896), "PNG"))

    assert close_to(opened(photo.data).getpixel((20, 20)), (128, 128, 128), tolerance=3)


def test_an_rgb_colour_profile_is_kept_and_a_cmyk_one_is_not() -> None:
    rgb_profile = bytes(16) + b"RGB " + bytes(108)
    cmyk_profile = bytes(16) + b"CMYK" + bytes(108)

    kept = process(encode(noise((40, 40)), "JPEG", icc_profile=rgb_profile))
    dropped = process(encode(Image.new("CMYK", (40, 40)), "JPEG", icc_profile=cmyk_profile))

    assert opened(kept.data).info.get("icc_profile") == rgb_profile
    assert opened(kept.thumbnail).info.get("icc_profile") == rgb_profile
    assert "icc_profile" not in opened(dropped.data).info


# --- what is refused ------------------------------------------------------------------------------------------


def test_too_large_is_refused_before_anything_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the image was opened")

    monkeypatch.setattr(processing.Image, "open", must_not_open)

    assert rejection(b"\x00" * 1001, max_bytes=1000) == "too_large"
    assert rejection(b"\xff\xd8\xff" + bytes(2000), max_bytes=1000) == "too_large"


def test_exactly_max_bytes_is_accepted() -> None:
    raw = encode(noise((20, 20)), "PNG")

    assert process(raw, max_bytes=len(raw)).width == 20


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param(encode(noise((20, 20)).convert("P"), "GIF"), "unsupported_format", id="gif"),
        pytest.param(encode(noise((20, 20)), "BMP"), "unsupported_format", id="bmp"),
        pytest.param(encode(noise((20, 20)), "TIFF"), "unsupported_format", id="tiff"),
        pytest.param(encode(noise((20, 20)), "ICO"), "unsupported_format", id="ico"),
        pytest.param(b"\x00\x00\x00\x18ftypheic" + bytes(40), "unsupported_format", id="heic"),
        pytest.param(b"hello", "not_an_image", id="text-named-like-a-jpg"),
        pytest.param(b"", "not_an_image", id="empty"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "not_an_image", id="svg"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n", "not_an_image", id="pdf"),
        pytest.param(b"BMhello, this is not a bitmap", "not_an_image", id="text-starting-with-BM"),
        pytest.param(b"\xff\xd8\xff\xe0" + bytes(100), "corrupt", id="jpeg-signature-then-garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(100), "corrupt", id="png-signature-then-garbage"),
    ],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused(raw: bytes, code: str) -> None:
    assert rejection(raw) == code


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_corrupt(fmt: str) -> None:
    raw = encode(noise((200, 200)), fmt)

    assert rejection(raw[: len(raw) // 2]) == "corrupt"


def test_a_bitflipped_png_is_corrupt() -> None:
    raw = bytearray(encode(noise((50, 50)), "PNG"))
    raw[len(raw) // 2] ^= 0xFF  # the IDAT chunk's CRC no longer matches

    assert rejection(bytes(raw)) == "corrupt"


@pytest.mark.parametrize(
    ("width", "height", "options"),
    [
        # Over the caller's limit (50 million by default) but under Pillow's own: refused by the header check.
        pytest.param(8000, 8000, {}, id="over-max-pixels"),
        # Over Pillow's warning limit (about 89 million), with a caller who would allow more.
        pytest.param(10_000, 10_000, {"max_pixels": 10**9}, id="pillow-warning"),
        # Over twice Pillow's limit: Pillow itself refuses to open it.
        pytest.param(20_000, 20_000, {}, id="pillow-error"),
    ],
)
def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(
    width: int, height: int, options: dict[str, object]
) -> None:
    # The header claims the size but the data holds one pixel: decoding it would say "corrupt", not this.
    assert rejection(png_claiming(width, height), **options) == "too_many_pixels"


def test_max_pixels_is_the_callers_to_choose() -> None:
    raw = encode(noise((100, 100)), "PNG")

    assert rejection(raw, max_pixels=9_999) == "too_many_pixels"
    assert process(raw, max_pixels=10_000).width == 100


def test_a_real_huge_but_tiny_png_is_refused() -> None:
    raw = encode(Image.new("1", (8000, 7000)), "PNG")
    assert len(raw) < 20_000  # 56 million pixels compress to almost nothing

    assert rejection(raw) == "too_many_pixels"


def test_rejection_codes_and_messages() -> None:
    for code in ("too_large", "not_an_image", "unsupported_format", "too_many_pixels", "corrupt"):
        error = PhotoRejected(code)  # type: ignore[arg-type]
        assert error.code == code
        assert error.message
        assert str(error) == error.message
    assert PhotoRejected("corrupt", "Trasig bild.").message == "Trasig bild."
