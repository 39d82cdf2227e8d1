"""The certificate's sign: plain facts, its QR code, and the PDF (through `audit.pdf.render_pdf`)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from audit.certificates.models import Certificate
from audit.i18n import LANGUAGES
from audit.pdf import render_document, render_pdf


class PaperSize(StrEnum):
    a4 = "A4"
    a3 = "A3"


SIGN_CSS = "pdf/sign.css"
#: Street addresses longer than each of these many characters are set one step smaller (pdf/sign.css: `.step1` to
#: `.step4`, the last also cut to three lines), and so are postcode and city by theirs: the sign stays one page
#: whatever an address is (up to 200 characters).
ADDRESS_STEPS = (32, 42, 52, 64)
CITY_STEPS = (30, 40, 52)
#: A3 is A4 scaled by √2: the sign is designed once, in A4 millimetres, and scaled.
SCALE = {PaperSize.a4: 1.0, PaperSize.a3: 2**0.5}
#: Error correction M: a sign can lose 15 % of its code to dirt or a scratch and still be read.
QR_ERROR = "M"
#: Image pixels per module (the quiet zone of four modules included). Drawn without smoothing, one pixel a module
#: fell on the device pixels of a 40 dpi rendering so unevenly that zbar missed a quarter of the codes; two read
#: every one of a hundred at 30 to 72 dpi.
QR_PIXELS_PER_MODULE = 2


@dataclass(frozen=True, slots=True)
class SignFacts:
    """What the sign shows; nothing else reaches its template."""

    number: str
    street_address: str
    postcode: str
    city: str
    organisation_name: str
    issued_on: date
    valid_until: date
    verification_url: str


def sign_facts(certificate: Certificate) -> SignFacts:
    return SignFacts(
        number=certificate.number,
        street_address=certificate.street_address,
        postcode=certificate.postcode,
        city=certificate.city,
        organisation_name=certificate.organisation_name,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        verification_url=certificate.verification_url,
    )


def qr_image(text: str) -> str:
    """The QR code of `text` as a small greyscale PNG `data:` URL, quiet zone included.

    The sign enlarges it without smoothing (`image-rendering: pixelated` in pdf/sign.css), so its modules print as
    sharp squares at any size. zxing-cpp encodes in C++ in under a millisecond: segno, in Python, took 6 to 8 ms
    (most of it choosing the mask), which alone put the sign above 1.5 times the minimal document in `make bench`.
    """
    # Imported only when a sign is made: the app starts without them.
    import zxingcpp
    from PIL import Image

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR)
    # 8-bit grey, row by row; zxingcpp.Image has the buffer protocol, which its type stubs do not declare.
    bitmap = memoryview(code.to_image(scale=QR_PIXELS_PER_MODULE, add_quiet_zones=True))  # type: ignore[arg-type]
    height, width = bitmap.shape or (0, 0)
    png = io.BytesIO()
    Image.frombytes("L", (width, height), bitmap.tobytes()).save(png, "PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def size_step(text: str, limits: Sequence[int]) -> int:
    """0 for a text that fits the largest size, and one step more for each limit it is longer than."""
    return sum(len(text) > limit for limit in limits)


def _sign_context(facts: SignFacts, size: PaperSize, language: str) -> dict[str, object]:
    if language not in LANGUAGES:
        raise ValueError(f"no sign in {language!r}")
    steps = {
        "address": size_step(facts.street_address, ADDRESS_STEPS),
        "city": size_step(f"{facts.postcode} {facts.city}", CITY_STEPS),
    }
    return {"sign": facts, "qr": qr_image(facts.verification_url), "size": size.value, "k": SCALE[size], "steps": steps}


def render_sign(facts: SignFacts, size: PaperSize = PaperSize.a4, language: str = "sv") -> bytes:
    return render_pdf("pdf/sign.html", _sign_context(facts, size, language), language=language, stylesheet=SIGN_CSS)


def sign_document(facts: SignFacts, size: PaperSize = PaperSize.a4, language: str = "sv") -> Any:
    """The laid-out sign, for joining many into one PDF (see `audit.pdf.join_pdf`)."""
    context = _sign_context(facts, size, language)
    return render_document("pdf/sign.html", context, language=language, stylesheet=SIGN_CSS)


def issued_sign(certificate: Certificate) -> bytes:
    """The sign as it is stored when the certificate is issued (or its sign regenerated): A4, Swedish."""
    return render_sign(sign_facts(certificate))
