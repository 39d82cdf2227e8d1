"""Trygga hus: checklist-driven building safety audits."""

from __future__ import annotations

from flask import Flask

from audit.settings import PROJECT_ROOT, Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: nothing reads configuration before this is called."""
    from audit import cli, errors, models  # noqa: F401  (models registers every table on the metadata)
    from audit.database import make_engine
    from audit.extensions import csrf, db
    from audit.main.views import bp as main_bp

    settings = settings or Settings.from_env()
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
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
    )
    app.config.update(settings.overrides)

    engine = make_engine(
        settings.sqlalchemy_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, echo=settings.sql_echo
    )
    db.init_app(app, engine)
    csrf.init_app(app)
    app.register_blueprint(main_bp)
    errors.register(app)
    cli.register(app)
    return app
