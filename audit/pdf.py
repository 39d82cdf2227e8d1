"""The one way to make PDFs: a Jinja template from `templates/` rendered by WeasyPrint.

    from audit.pdf import render_pdf

    data = render_pdf("pdf/certificate.html", {"certificate": facts}, language="en")

- The context is plain data (dataclasses, strings, numbers, dates); the template does the layout.
- WeasyPrint is imported inside the function (importing it costs about half a second): never at app start.
- Resources come only from inside the app. Relative URLs in a template resolve against `PDF_ORIGIN`:
  `static/<path>` is served from `audit/static` (fonts, images) and `photos/<relative path>` from the photo store
  (see `audit.photos.storage.PhotoStore`); `data:` URLs are read as they are. Everything else — `file://`
  anywhere else, every outside host, a path that climbs out of its folder — is refused, so a document can never
  read local files or call out to the network.
- Fonts are shipped in `audit/static/fonts` and declared with `@font-face` in the templates (`templates/pdf/
  _fonts.html`), so a PDF looks the same on every machine.
- It works outside a request too (CLI, background jobs): it needs only an app context.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from audit.i18n import DEFAULT_LANGUAGE
from audit.settings import PROJECT_ROOT

#: The made-up origin that relative URLs in PDF templates resolve against; nothing is ever fetched from it.
PDF_ORIGIN = "https://pdf.tryggahus.invalid/"
STATIC_ROOT = PROJECT_ROOT / "audit" / "static"

_MEDIA_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


class RefusedResource(ValueError):
    """A PDF template asked for something outside the app's own static files and photos."""


def resolve_resource(url: str, static_root: Path, photo_root: Path) -> Path:
    """The file an internal URL stands for; RefusedResource for every other URL."""
    parts = urlsplit(url)
    origin = urlsplit(PDF_ORIGIN)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        raise RefusedResource(f"PDF resources come only from the app itself, not from {url[:200]!r}")
    relative = PurePosixPath(unquote(parts.path).lstrip("/"))
    if "\\" in str(relative) or "\x00" in str(relative) or ".." in relative.parts or len(relative.parts) < 2:
        raise RefusedResource(f"not an app resource: {url[:200]!r}")
    folder, rest = relative.parts[0], PurePosixPath(*relative.parts[1:])
    roots = {"static": static_root, "photos": photo_root}
    if folder not in roots:
        raise RefusedResource(f"not an app resource: {url[:200]!r}")
    root = roots[folder].resolve()
    path = (root / rest).resolve()  # follows symbolic links, so one that points out is caught here
    if not path.is_relative_to(root) or not path.is_file():
        raise RefusedResource(f"no such app resource: {url[:200]!r}")
    return path


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppResourceFetcher(URLFetcher):  # type: ignore[misc]
        """Serves `resolve_resource`'s files and `data:` URLs; refuses everything else without opening it."""

        def __init__(self, static_root: Path, photo_root: Path) -> None:
            super().__init__(allowed_protocols=("data", "https"))
            self.static_root = static_root
            self.photo_root = photo_root
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            try:
                path = resolve_resource(url, self.static_root, self.photo_root)
            except RefusedResource:
                self.refused.append(url)
                raise
            media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})

    return AppResourceFetcher


def make_url_fetcher(static_root: Path = STATIC_ROOT, photo_root: Path | None = None) -> Any:
    """A WeasyPrint URL fetcher for the app's static files and, when given, the photo store's files."""
    return _fetcher_class()(Path(static_root), Path(photo_root) if photo_root else Path(static_root) / ".no-photos")


_fonts = threading.local()


def _font_config() -> Any:
    """One FontConfiguration per thread: @font-face files are loaded once, not for every document."""
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def render_document(
    template_name: str,
    context: Mapping[str, Any],
    *,
    language: str | None = None,
    photo_root: Path | None = None,
    base_url: str = PDF_ORIGIN,
) -> Any:
    """Like `render_pdf`, but the laid-out `weasyprint.Document` (to join several into one PDF with `join_pdf`)."""
    import weasyprint
    from flask import current_app, has_request_context, render_template
    from flask_babel import force_locale

    if photo_root is None:
        photo_root = current_app.config["TRYGGAHUS"].photo_root
    if language is None and not has_request_context():
        language = DEFAULT_LANGUAGE
    if language is None:
        html = render_template(template_name, **context)
    else:
        with force_locale(language):
            html = render_template(template_name, **context)
    fetcher = make_url_fetcher(STATIC_ROOT, photo_root)
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(font_config=_font_config())


def render_pdf(
    template_name: str,
    context: Mapping[str, Any],
    *,
    language: str | None = None,
    photo_root: Path | None = None,
    base_url: str = PDF_ORIGIN,
) -> bytes:
    """Render `templates/<template_name>` with `context` and return the PDF's bytes.

    `language` ("sv" or "en") forces the language of the template's translated strings; by default it is the
    current request's (or Swedish outside a request). `photo_root` is the photo store's folder; by default the
    app's (`Settings.photo_root`). `base_url` is what relative URLs resolve against; only `PDF_ORIGIN` reaches
    the app's files. Needs an app context; raises whatever WeasyPrint raises for a broken document.
    """
    document = render_document(template_name, context, language=language, photo_root=photo_root, base_url=base_url)
    return document.write_pdf()  # type: ignore[no-any-return]


def join_pdf(documents: Sequence[Any]) -> bytes:
    """One PDF with the pages of several documents from `render_document`, in order."""
    if not documents:
        raise ValueError("no documents to join")
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()  # type: ignore[no-any-return]
