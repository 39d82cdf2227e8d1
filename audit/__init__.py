"""Trygga hus: checklist-driven building safety audits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:  # the pure modules (loader, scoring) must be importable without Flask
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: nothing reads configuration before this is called."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from audit import cli, errors, models  # noqa: F401  (models registers every table on the metadata)
    from audit.access import init_access
    from audit.accounts.auth import init_login
    from audit.accounts.views import bp as accounts_bp
    from audit.api.views import bp as api_bp
    from audit.auditlog.subscriptions import subscribe as subscribe_audit_log
    from audit.auditlog.views import bp as auditlog_bp
    from audit.buildings.views import bp as buildings_bp
    from audit.certificates.views import bp as certificates_bp
    from audit.database import make_engine
    from audit.deviations.est import evaluation_views  # noqa: F401  # adds the evaluation's routes to est_bp
    from audit.deviations.est.views import bp as est_bp
    from audit.deviations.views import bp as deviations_bp
    from audit.event_log import subscribe as subscribe_event_log
    from audit.extensions import csrf, db, limiter
    from audit.headers import init_security_headers
    from audit.health.checks import init_readiness
    from audit.health.views import bp as health_bp
    from audit.i18n import init_i18n, init_template_helpers
    from audit.input_guard import init_input_guard
    from audit.inspections.views import bp as inspections_bp
    from audit.logs import configure_logging
    from audit.main.views import bp as main_bp
    from audit.offline.views import bp as offline_bp
    from audit.remediation.views import bp as remediation_bp
    from audit.request_id import init_request_id
    from audit.request_scope import init_request_scope
    from audit.security import init_password_hashing
    from audit.site import init_site
    from audit.urls import IdConverter

    settings = settings or Settings.from_env()
    configure_logging(settings)  # before Flask's own logger is made, so that one finds the handler
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.resolve_secret_key(),
        TRYGGAHUS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        # A little above the largest photo, so an oversized photo is refused by its own check with a clear message.
        MAX_CONTENT_LENGTH=settings.max_photo_bytes + 1024 * 1024,
        # Long enough for a whole inspection walk on one page; an expired token gets a friendly page, not a lost form.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        # The cookie is signed again only when it changes: the login itself lives (and is revoked) server-side,
        # and re-signing it on every autosave and page costs more than the page's own database work.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.config.update(settings.overrides)
    # Every `<int:…>` id in every route (set before any route is added): an id the database cannot hold is a 404.
    app.url_map.converters["int"] = IdConverter

    engine = make_engine(
        settings.sqlalchemy_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, echo=settings.sql_echo
    )
    init_request_scope(app)  # first, so its clean-up of `g` runs after every other teardown
    init_request_id(app)
    db.init_app(app, engine)
    init_input_guard(app)  # before the access gate: malformed input is refused whoever sends it
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    limiter.init_app(app)
    init_password_hashing(app, settings.production)
    init_login(app)
    init_access(app)
    init_i18n(app)
    init_template_helpers(app)
    init_site(app)
    init_security_headers(app, settings.production)
    subscribe_audit_log()
    subscribe_event_log()
    init_readiness(app)
    blueprints = (main_bp, accounts_bp, buildings_bp, inspections_bp, api_bp, remediation_bp, certificates_bp)
    for blueprint in (*blueprints, deviations_bp, est_bp, auditlog_bp, health_bp, offline_bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    cli.register(app)
    if settings.proxy_hops:
        # The client's address, scheme and host as the trusted proxies in front report them (the login throttles
        # and rate limits count the client, not the proxy); the headers of any further hop are ignored.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
