"""Typed settings read from `TRYGGAHUS_*` environment variables when the app is created, never at import time."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "TRYGGAHUS_"
#: The levels `TRYGGAHUS_LOG_LEVEL` may name (in any case).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: More proxies than this in a row is a mistake in the setting rather than a deployment.
MAX_PROXY_HOPS = 5
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


def _as_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    #: "development" (the embedded default) or "production" (secrets must be given, nothing is generated).
    env: str = "development"
    #: Folder for the SQLite database, the generated secret key and uploaded files.
    instance_path: Path = PROJECT_ROOT / "instance"
    #: SQLAlchemy URL; empty means the embedded SQLite file `instance/tryggahus.sqlite3`.
    database_url: str = ""
    #: Signs sessions and CSRF tokens. Required in production; generated once into `instance/` otherwise.
    secret_key: str = ""
    #: Folder of checklist YAML files loaded by `tryggahus init` and `tryggahus checklist load`.
    checklist_dir: Path = PROJECT_ROOT / "checklists"
    #: How long SQLite waits for a lock before giving up, in milliseconds.
    sqlite_busy_timeout_ms: int = 5000
    #: Largest photo upload accepted, in bytes (larger ones get 413).
    max_photo_bytes: int = 15 * 1024 * 1024
    #: Photos are scaled down so their longest side is at most this many pixels.
    photo_max_dimension: int = 2048
    #: Where photos are stored (outside static/); default `instance/photos`.
    photo_dir: Path | None = None
    #: Where photos, thumbnails and batch outputs are kept (`audit/storage/`): "local" (the folders `photo_dir`
    #: and `instance/batches`) or "s3" (S3-compatible object storage, for several servers; the `s3_*` settings).
    storage: str = "local"
    #: The bucket (private: files are served only through the app's views, after its access checks).
    s3_bucket: str = ""
    #: Prepended to every object's key, e.g. "tryggahus/" (ends with "/"); photos go under `<prefix>photos/`.
    s3_prefix: str = ""
    #: The S3 server's address for other services than AWS (MinIO, Ceph, Garage…), e.g. "https://s3.example.se".
    s3_endpoint_url: str = ""
    s3_region: str = ""
    #: Empty: boto3's usual sources (AWS_* variables, a profile, an instance role).
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    #: "auto", "path" (bucket in the path: most self-hosted servers) or "virtual" (bucket in the host name).
    s3_addressing_style: str = "auto"
    #: How often one S3 request is tried before the user gets 503 (boto3's standard retries, with back-off).
    s3_max_attempts: int = 3
    #: Echo SQL to the log.
    sql_echo: bool = False
    #: The address the public reaches this app at; printed in certificates' QR codes (`<base>/v/<token>`). Required
    #: (https://) in production; empty in development means the address of the request that issues the certificate.
    public_base_url: str = ""
    #: Where rate limits are counted: "memory://" (one process) or e.g. "redis://127.0.0.1:6379/0" when scaled out.
    ratelimit_storage_uri: str = "memory://"
    #: How often one client address may open public certificate pages (Flask-Limiter notation).
    verify_rate_limit: str = "60 per minute"
    #: How long a PDF made for a request (a report, a sign, a task list) may take to lay out, in milliseconds; past
    #: it the helper making it is stopped and the user gets a clear error (`audit.pdf.render_pdf`). Keep it below
    #: the server's worker timeout (gunicorn: 30 s).
    pdf_timeout_ms: int = 20_000
    #: How long a write's idempotency record is kept, in days: an offline tablet may retry with its key that long.
    idempotency_retention_days: int = 30
    #: How long failed-login counters, ended login sessions and spent password reset links are kept, in days.
    login_record_retention_days: int = 30
    #: How long a finished or failed job's row and its file (a batch of signs, an export) are kept, in days.
    job_retention_days: int = 14
    #: "json" (one JSON object a line) or "text" (readable lines); empty means JSON in production, text otherwise.
    log_format: str = ""
    #: The least severe level the app's own loggers (`audit.*`) write: DEBUG, INFO, WARNING or ERROR.
    log_level: str = "INFO"
    #: How many proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none, the headers are ignored).
    proxy_hops: int = 0
    #: The job queue's transport: empty for the embedded SQLite file `instance/queue.sqlite3` (one machine), or a
    #: Redis URL (`redis://host:6379/1`) that every web server and `tryggahus worker` on any machine shares.
    queue_url: str = ""
    #: How long a worker holds a job without renewing its lease; a job whose worker stopped (killed, machine lost)
    #: is run again once its lease has expired. The running worker renews it every third of this time.
    job_lease_seconds: int = 60
    #: Extra Flask config (tests only), not read from the environment.
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (not self.log_format and self.production)

    @property
    def photo_root(self) -> Path:
        return self.photo_dir or self.instance_path / "photos"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'tryggahus.sqlite3'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> Settings:
        """Settings from `TRYGGAHUS_<NAME>` variables; explicit keyword arguments win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in fields(cls):
            raw = environ.get(PREFIX + setting.name.upper())
            if raw is None or setting.name == "overrides":
                continue
            values[setting.name] = _convert(setting.name, setting.type, raw)
        values.update(explicit)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.env not in {"development", "production"}:
            raise SettingsError(f"{PREFIX}ENV must be 'development' or 'production', not {self.env!r}")
        if self.production and not self.secret_key:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY is not set. In production the secret key must be given; generate one with\n"
                '  python -c "import secrets; print(secrets.token_hex(32))"'
            )
        if self.production and len(self.secret_key) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters long")
        if self.production and not self.public_base_url.startswith("https://"):
            raise SettingsError(
                f"{PREFIX}PUBLIC_BASE_URL must be the app's public https:// address in production: "
                "it is printed in the certificates' QR codes"
            )
        if not 100 <= self.pdf_timeout_ms <= 25_000:
            raise SettingsError(f"{PREFIX}PDF_TIMEOUT_MS must be between 100 and 25000 (below gunicorn's 30 s timeout)")
        if min(self.idempotency_retention_days, self.login_record_retention_days, self.job_retention_days) < 1:
            raise SettingsError(
                f"{PREFIX}IDEMPOTENCY_RETENTION_DAYS, {PREFIX}LOGIN_RECORD_RETENTION_DAYS and "
                f"{PREFIX}JOB_RETENTION_DAYS must be at least 1"
            )
        self._check_storage()
        address = urlsplit(self.public_base_url)
        if self.public_base_url and (address.scheme not in {"http", "https"} or not address.hostname):
            raise SettingsError(
                f"{PREFIX}PUBLIC_BASE_URL must be an http:// or https:// address such as https://tryggahus.example.se, "
                f"not {self.public_base_url!r}"
            )
        if address.query or address.fragment:
            raise SettingsError(f"{PREFIX}PUBLIC_BASE_URL must not have a query or a fragment")
        if self.log_format not in {"", "json", "text"}:
            raise SettingsError(f"{PREFIX}LOG_FORMAT must be 'json' or 'text', not {self.log_format!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(f"{PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if not 0 <= self.proxy_hops <= MAX_PROXY_HOPS:
            raise SettingsError(f"{PREFIX}PROXY_HOPS must be a number of proxies from 0 to {MAX_PROXY_HOPS}")

        if self.queue_url and urlsplit(self.queue_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError(
                f"{PREFIX}QUEUE_URL must be a Redis URL such as redis://127.0.0.1:6379/1 (or empty for the embedded "
                f"queue), not a {urlsplit(self.queue_url).scheme or 'schemeless'!r} address"
            )
        if self.job_lease_seconds < 1:
            raise SettingsError(f"{PREFIX}JOB_LEASE_SECONDS must be at least 1")

    def _check_storage(self) -> None:
        if self.storage not in {"local", "s3"}:
            raise SettingsError(f"{PREFIX}STORAGE must be 'local' or 's3', not {self.storage!r}")
        if self.storage == "s3" and not self.s3_bucket:
            raise SettingsError(f"{PREFIX}S3_BUCKET must name the bucket when {PREFIX}STORAGE is 's3'")
        self.check_s3_options()

    def check_s3_options(self) -> None:
        """The S3 settings that are given must be usable (also for `tryggahus storage migrate`)."""
        if self.s3_prefix and (not self.s3_prefix.endswith("/") or self.s3_prefix.startswith("/")):
            raise SettingsError(f"{PREFIX}S3_PREFIX must end with '/' and not start with one, e.g. 'tryggahus/'")
        if self.s3_addressing_style not in {"auto", "path", "virtual"}:
            raise SettingsError(f"{PREFIX}S3_ADDRESSING_STYLE must be 'auto', 'path' or 'virtual'")
        if not 1 <= self.s3_max_attempts <= 10:
            raise SettingsError(f"{PREFIX}S3_MAX_ATTEMPTS must be between 1 and 10")
        endpoint = urlsplit(self.s3_endpoint_url)
        if self.s3_endpoint_url and (endpoint.scheme not in {"http", "https"} or not endpoint.hostname):
            raise SettingsError(f"{PREFIX}S3_ENDPOINT_URL must be an http:// or https:// address")

    def resolve_secret_key(self) -> str:
        """The configured secret, or (outside production) one generated once and kept in the instance folder."""
        if self.secret_key:
            return self.secret_key
        self.check()
        key_file = self.instance_path / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.instance_path.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        # Created exclusively and private to the owner, so two processes never write different keys.
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return key_file.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
        return key


def _convert(name: str, annotation: Any, raw: str) -> Any:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    try:
        if kind == "bool":
            return _as_bool(raw)
        if kind == "int":
            return int(raw)
        if kind in ("Path", "Path | None"):
            return Path(raw).resolve()
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name.upper()}: {exc}") from None
    return raw
