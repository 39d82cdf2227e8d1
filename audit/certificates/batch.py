"""Printing many signs at once, as one PDF or a ZIP of PDFs, from the command line or as a background job.

Every sign is rendered on its own: one that fails is reported (its number and the error) and the others are
still printed. `tryggahus certificates print` calls `print_signs` in its own process; in the browser it runs as a
job on the queue (`audit/certificates/jobs.py`), whose row records the progress that the page polls.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flask import current_app

from audit.certificates.documents import PaperSize, SignFacts, sign_document
from audit.certificates.models import BatchFormat
from audit.pdf import join_pdf

MEDIA_TYPES = {BatchFormat.pdf: "application/pdf", BatchFormat.zip: "application/zip"}


@dataclass
class BatchOutput:
    #: The PDF or ZIP; None when no sign could be made.
    data: bytes | None
    printed: int = 0
    #: (certificate number, error) for every sign that failed.
    errors: list[tuple[str, str]] = field(default_factory=list)


def _file_name(facts: SignFacts) -> str:
    ascii_text = unicodedata.normalize("NFKD", facts.street_address).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()[:60]
    return f"{facts.number}-{slug or 'sign'}.pdf"


def print_signs(
    signs: Sequence[SignFacts],
    output_format: BatchFormat,
    *,
    render: Callable[[SignFacts], Any],
    on_progress: Callable[[int], None] | None = None,
) -> BatchOutput:
    """Render every sign with `render` (which returns a laid-out document) and put them together."""
    documents: list[tuple[SignFacts, Any]] = []
    output = BatchOutput(data=None)
    for done, facts in enumerate(signs, start=1):
        try:
            documents.append((facts, render(facts)))
        except Exception as exc:  # any failure of one sign is reported; the others go on
            current_app.logger.exception("sign %s could not be printed", facts.number)
            output.errors.append((facts.number, f"{type(exc).__name__}: {exc}"[:300]))
        if on_progress is not None:
            on_progress(done)
    output.printed = len(documents)
    if not documents:
        return output
    if output_format is BatchFormat.pdf:
        output.data = join_pdf([document for _facts, document in documents])
        return output
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for facts, document in documents:
            archive.writestr(_file_name(facts), document.write_pdf())
        if output.errors:
            archive.writestr("errors.txt", "".join(f"{number}: {error}\n" for number, error in output.errors))
    output.data = buffer.getvalue()
    return output


def sign_renderer(size: PaperSize, language: str) -> Callable[[SignFacts], Any]:
    return partial(sign_document, size=size, language=language)
