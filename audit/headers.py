"""Security headers on every response: what the browser may load, run, frame and send along.

The policy allows nothing inline: every script is a file in `audit/static/js/` and every style is in the
stylesheet, so an injected `<script>`, `onclick=` or `style=` does nothing even if escaping ever failed.
"""

from __future__ import annotations

from flask import Flask, Response

#: Only this site's own files; no inline script, event handler or style attribute; never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        # The service worker (/sw.js) and the web app manifest, both from this site only.
        "worker-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

#: The walk page uses the camera through a file input, which needs no permission; nothing else is used.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

#: Two years, the preload list's minimum; sent only in production, where the app is served over https.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def security_headers(production: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        # For browsers that predate frame-ancestors.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if production:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


def init_security_headers(app: Flask, production: bool) -> None:
    headers = security_headers(production)

    def _add_headers(response: Response) -> Response:
        for name, value in headers.items():
            # A view that chose its own value (the public check page's stricter Referrer-Policy) keeps it.
            response.headers.setdefault(name, value)
        return response

    app.after_request(_add_headers)
