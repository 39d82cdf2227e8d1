"""The one way to make PDFs: a Jinja template from `templates/` rendered by WeasyPrint.

    from audit.pdf import render_pdf

    data = render_pdf("pdf/sign.html", {"sign": facts, ...}, language="en", stylesheet="pdf/sign.css")

- The context is plain data (dataclasses, strings, numbers, dates); the template does the layout.
- Styles live in a stylesheet template (`stylesheet`, rendered with the same context; not autoescaped, so put
  only trusted values such as sizes in it) beside `pdf/fonts.css`, which every PDF gets. Each distinct stylesheet
  text is parsed once per thread and reused: parsing a `<style>` element again for every document cost the sign
  about a fifth of its time.
- WeasyPrint is imported inside the function (importing it costs about half a second): never at app start.
- Resources come only from inside the app. Relative URLs in a template resolve against `PDF_ORIGIN`:
  `static/<path>` is served from `audit/static` (fonts, images) and `photos/<key>` from the photo store (the
  local folder or S3, `audit.storage`); `data:` URLs are read as they are. Everything else — `file://`
  anywhere else, every outside host, a path that climbs out of its folder — is refused, so a document can never
  read local files or call out to the network.
- Fonts are shipped in `audit/static/fonts` and declared with `@font-face` in `templates/pdf/fonts.css`, so a
  PDF looks the same on every machine.
- Images that are made, not stored (the sign's QR code), reach the template as `data:` URLs in the context.
- Speed: each thread keeps its font configuration, parsed stylesheets and URL fetcher. WeasyPrint's time grows
  with the number of elements, so the templates make few.
- It works outside a request too (CLI, background jobs): it needs only an app context.
- Bounded in time: in a request, the layout runs in a helper process (`audit.bounded`) that is killed past
  `Settings.pdf_timeout_ms` (20 s); the user gets `PdfTooSlow`'s message instead of a worker the server kills.
  Commands and jobs, where nobody waits on a web worker, lay out in their own process.
"""

from __future__ import annotations

import atexit
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from audit.bounded import BoundedRunner, HelperDied, TooSlow
from audit.errors import N_, DomainError
from audit.i18n import DEFAULT_LANGUAGE
from audit.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from audit.storage.base import FileStore
    from audit.storage.config import StoreConfig

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


#: A fetcher remembers this many of the URLs it refused, newest last (for tests and debugging).
MAX_REMEMBERED_REFUSALS = 50


class RefusedResource(ValueError):
    """A PDF template asked for something outside the app's own static files and photos."""


def read_resource(url: str, static_root: Path, photos: FileStore | None) -> bytes:
    """The bytes of the static file or stored photo an internal URL stands for; RefusedResource for every other URL
    (and for photos when `photos` is None)."""
    from audit.storage.base import NotStored

    relative = _internal_path(url)
    folder, rest = relative.parts[0], PurePosixPath(*relative.parts[1:]).as_posix()
    if folder == "static":
        root = static_root.resolve()
        path = (root / rest).resolve()  # follows symbolic links, so one that points out is caught here
        if not path.is_relative_to(root) or not path.is_file():
            raise RefusedResource(f"no such app resource: {url[:200]!r}")
        return path.read_bytes()
    if folder != "photos" or photos is None:
        raise RefusedResource(f"not an app resource: {url[:200]!r}")
    try:
        return photos.read(rest)
    except (NotStored, ValueError):
        raise RefusedResource(f"no such app resource: {url[:200]!r}") from None


def _internal_path(url: str) -> PurePosixPath:
    """The path of a URL under `PDF_ORIGIN`, at least two parts deep and never climbing; RefusedResource else."""
    parts = urlsplit(url)
    origin = urlsplit(PDF_ORIGIN)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        raise RefusedResource(f"PDF resources come only from the app itself, not from {url[:200]!r}")
    relative = PurePosixPath(unquote(parts.path).lstrip("/"))
    if "\\" in str(relative) or "\x00" in str(relative) or ".." in relative.parts or len(relative.parts) < 2:
        raise RefusedResource(f"not an app resource: {url[:200]!r}")
    return relative


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppResourceFetcher(URLFetcher):
        """Serves `read_resource`'s files and `data:` URLs; refuses everything else without opening it."""

        def __init__(self, static_root: Path, photos: FileStore | None) -> None:
            super().__init__(allowed_protocols=("data", "https"))
            self.static_root = static_root
            self.photos = photos
            self.refused: deque[str] = deque(maxlen=MAX_REMEMBERED_REFUSALS)
            #: Failures of the photo store during the current document (`_layout` raises the first afterwards).
            self.unavailable: list[OSError] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            try:
                data = read_resource(url, self.static_root, self.photos)
            except RefusedResource:
                self.refused.append(url)
                raise
            except OSError as exc:  # the store is out of reach: WeasyPrint would leave the image out silently
                self.unavailable.append(exc)
                raise
            media_type = _MEDIA_TYPES.get(PurePosixPath(urlsplit(url).path).suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(url, data, {"Content-Type": media_type})

    return AppResourceFetcher


def make_url_fetcher(static_root: Path = STATIC_ROOT, photos: FileStore | None = None) -> Any:
    """A WeasyPrint URL fetcher for the app's static files and, when given, the photo store's files."""
    return _fetcher_class()(Path(static_root), photos)


_per_thread = threading.local()
# Let the main thread's fonts go while the interpreter still runs: FontConfiguration's finaliser fails at shutdown.
atexit.register(_per_thread.__dict__.clear)
#: Parsed stylesheets kept per thread (a handful of templates × paper sizes); the oldest go beyond this.
MAX_CACHED_STYLESHEETS = 16
#: URL fetchers kept per thread: one per photo store, so one per app (the tests make many apps).
MAX_CACHED_FETCHERS = 8
FONTS_STYLESHEET = "pdf/fonts.css"


def _font_config() -> Any:
    """One FontConfiguration per thread: @font-face files are loaded once, not for every document."""
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_per_thread, "font_config", None)
    if config is None:
        config = _per_thread.font_config = FontConfiguration()
        _per_thread.stylesheets = {}  # parsed with this configuration's fonts: they live and die together
    return config


def _thread_url_fetcher(photos: StoreConfig) -> Any:
    """This thread's fetcher for the photo store `photos`, made once: making one sets up urllib's handlers, which
    it never uses, in half a millisecond (a twentieth of a sign)."""
    from audit.storage.config import open_store

    fetchers: dict[StoreConfig, Any] | None = getattr(_per_thread, "fetchers", None)
    if fetchers is None or len(fetchers) >= MAX_CACHED_FETCHERS:
        fetchers = _per_thread.fetchers = {}
    fetcher = fetchers.get(photos)
    if fetcher is None:
        fetcher = fetchers[photos] = make_url_fetcher(STATIC_ROOT, open_store(photos))
    return fetcher


def _parsed_stylesheet(css: str, font_config: Any) -> Any:
    """`css` parsed by WeasyPrint, once per thread (its @font-face rules register with the thread's fonts)."""
    import weasyprint

    cache: dict[str, Any] = _per_thread.stylesheets
    parsed = cache.get(css)
    if parsed is None:
        if len(cache) >= MAX_CACHED_STYLESHEETS:
            del cache[next(iter(cache))]
        parsed = cache[css] = weasyprint.CSS(
            string=css, base_url=PDF_ORIGIN, url_fetcher=make_url_fetcher(), font_config=font_config
        )
    return parsed


def _sources(
    template_name: str, context: Mapping[str, Any], language: str | None, stylesheet: str | None
) -> tuple[str, list[str]]:
    """The document's HTML and its stylesheets' texts, rendered from the templates (needs an app context)."""
    from flask import has_request_context, render_template
    from flask_babel import force_locale

    if language is None and not has_request_context():
        language = DEFAULT_LANGUAGE
    names = [template_name, FONTS_STYLESHEET] + ([stylesheet] if stylesheet else [])
    if language is None:
        html, *styles = (render_template(name, **context) for name in names)
    else:
        with force_locale(language):
            html, *styles = (render_template(name, **context) for name in names)
    return html, styles


def _photos() -> StoreConfig:
    """The app's photo store as plain data: a helper process opens its own store from it."""
    from audit.storage.services import app_store_config

    return app_store_config("photos")


def _layout(html: str, styles: Sequence[str], photos: StoreConfig) -> Any:
    """WeasyPrint's laid-out document for the HTML and stylesheets (no Flask needed: it runs in helpers too)."""
    import weasyprint

    font_config = _font_config()
    fetcher = _thread_url_fetcher(photos)
    fetcher.unavailable.clear()
    document = weasyprint.HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=[_parsed_stylesheet(css, font_config) for css in styles]
    )
    if fetcher.unavailable:  # a report without its photos would look complete: better none at all
        raise fetcher.unavailable[0]
    return document


def write_pdf(html: str, styles: Sequence[str], photos: StoreConfig) -> bytes:
    """The PDF of the HTML and stylesheets; what the time-bounded helper runs (see `render_pdf`)."""
    return _layout(html, styles, photos).write_pdf()  # type: ignore[no-any-return]


def render_document(
    template_name: str, context: Mapping[str, Any], *, language: str | None = None, stylesheet: str | None = None
) -> Any:
    """Like `render_pdf`, but the laid-out `weasyprint.Document` (to join several into one PDF with `join_pdf`),
    made in this process: for jobs and commands, where no request waits."""
    html, styles = _sources(template_name, context, language, stylesheet)
    return _layout(html, styles, _photos())


class PdfTooSlow(DomainError):
    """Laying out a PDF for a request ran past the limit and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            N_(
                "Making the PDF took longer than %(seconds)s seconds and was stopped. The document is too large to "
                "make while you wait; try again later, or shorten the longest texts."
            ),
            seconds=f"{seconds:g}",
        )
        self.seconds = seconds

    def translated(self) -> str:
        from flask_babel import format_decimal, gettext

        translated: str = gettext(self.message, seconds=format_decimal(self.seconds))
        return translated


class PdfFailed(DomainError):
    """The helper that lays out PDFs ended without an answer."""

    def __init__(self) -> None:
        super().__init__(N_("The PDF could not be made: the process making it stopped. Try again."))


#: The helper processes that lay out PDFs for requests (one per web worker, started on its first PDF).
_renderer = BoundedRunner(workers=1)


def render_pdf(
    template_name: str, context: Mapping[str, Any], *, language: str | None = None, stylesheet: str | None = None
) -> bytes:
    """Render `templates/<template_name>` with `context` and return the PDF's bytes.

    `language` ("sv" or "en") forces the language of the template's translated strings; by default it is the
    current request's (or Swedish outside a request). `stylesheet` names a CSS template in `templates/` rendered
    with the same context and added after `pdf/fonts.css`. Relative URLs resolve against `PDF_ORIGIN`, photos come
    from the app's photo store (`audit.storage`). Needs an app context; raises whatever WeasyPrint raises for
    a broken document.

    In a request, the layout runs in a helper process with the `pdf_timeout_ms` limit (`audit.bounded`): a
    document too large to make in time raises `PdfTooSlow` (a DomainError with a message for the user) instead of
    holding the web worker until the server kills it. Outside requests (commands, jobs) it runs in this process.
    """
    from flask import current_app, has_request_context

    html, styles = _sources(template_name, context, language, stylesheet)
    if not has_request_context():
        return write_pdf(html, styles, _photos())
    seconds = current_app.config["TRYGGAHUS"].pdf_timeout_ms / 1000
    try:
        return _renderer.run(write_pdf, html, styles, _photos(), timeout=seconds)
    except TooSlow:
        raise PdfTooSlow(seconds) from None
    except HelperDied:
        raise PdfFailed() from None


def join_pdf(documents: Sequence[Any]) -> bytes:
    """One PDF with the pages of several documents from `render_document`, in order."""
    if not documents:
        raise ValueError("no documents to join")
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()  # type: ignore[no-any-return]
