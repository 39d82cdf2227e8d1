"""Files the app makes for one signed-in user (PDFs, exports): sent so that no shared cache keeps a copy."""

from __future__ import annotations

from flask import Response


def private_file(data: bytes, content_type: str, filename: str, *, inline: bool = False) -> Response:
    """`data` as a file named `filename`: shown in the browser when `inline` (a PDF), else downloaded.

    `content_type` is sent as given (a `mimetype` would get a second `charset` added to text types).
    """
    response = Response(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
