"""Where a certificate's sign points: the public address for a sign made now, and the one shown before issuing.

In production the address is `TRYGGAHUS_PUBLIC_BASE_URL` (required, https). In development, when it is not set,
a sign made in a request points to the address that request came to (an app served on port 5101 prints port
5101), and one made outside a request (the demo data) to `DEVELOPMENT_BASE_URL`. The certificate stores the
address its sign was made with, so every later rendering prints the same (see `Certificate.public_base_url`).

The issuing page shows the exact address before the button is pressed: the token is drawn then and travels, signed
with the app's secret key, in the form (`offer_verification_url`, `accepted_verification_url`), so the sign
prints what was shown, and nobody can choose a token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from itsdangerous import BadData, URLSafeSerializer

from audit.certificates.models import verification_url

#: Bytes of randomness in a verification token (256 bits; the brief asks for at least 128).
TOKEN_BYTES = 32
#: The address of `make run`, for signs made outside a request in development without a configured address.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
_SALT = "tryggahus.certificates.verification-url"
_DEFAULT_PORTS = (80, 443)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def verification_base_url() -> str:
    """The address a sign made now points to: the configured one, else (development) the request's own."""
    configured: str | None = current_app.config["TRYGGAHUS"].public_base_url
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return DEVELOPMENT_BASE_URL


def names_another_host(base_url: str) -> bool:
    """Whether `base_url` names another host or port than the one the current request came to."""
    return _host_and_port(urlsplit(base_url).netloc) != _host_and_port(request.host)


def _host_and_port(netloc: str) -> tuple[str | None, int | None]:
    # Behind a proxy the request may come in as http while the public address is https: default ports are equal.
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:  # a malformed Host header names no address of ours
        return netloc, None
    return parts.hostname, None if port in _DEFAULT_PORTS else port


@dataclass(frozen=True, slots=True)
class OfferedUrl:
    """The verification URL shown before issuing, and the signed form value that issues exactly it."""

    url: str
    signed: str


def offer_verification_url(inspection_id: int) -> OfferedUrl:
    base_url, token = verification_base_url(), new_token()
    signed = _serializer().dumps([inspection_id, base_url, token])
    return OfferedUrl(verification_url(base_url, token), signed)


def accepted_verification_url(signed: str, inspection_id: int) -> tuple[str, str] | None:
    """(base URL, token) of an offer made for this inspection, while a sign made now would still print that base;
    None for anything else (another inspection's offer, a forged value, an address that has changed since)."""
    try:
        offered_for, base_url, token = _serializer().loads(signed)
    except (BadData, TypeError, ValueError):
        return None
    if offered_for != inspection_id or base_url != verification_base_url():
        return None
    return base_url, token


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
