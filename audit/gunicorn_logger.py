"""gunicorn's own lines (its error log and the access log) through the app's handler: JSON or text, as the app's.

`tryggahus serve` uses this class; with plain gunicorn, name it:

    gunicorn --logger-class audit.gunicorn_logger.GunicornLogger --access-logfile - wsgi:app

Each access line carries the request's id (read from the `X-Request-Id` response header, gunicorn's
`%({x-request-id}o)s`), so it can be found beside the app's own lines of that request. It names the method, the
path without its query (a query can hold search terms such as an e-mail address), the status, the size and the
time; not the client's address nor its user agent. Paths that carry a secret (a password reset link, a
certificate's public check token) are logged with the secret replaced by `…`.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from gunicorn import glogging
from gunicorn.config import Config
from gunicorn.http import Request
from gunicorn.http.wsgi import Response

from audit.logs import configure_logging
from audit.settings import Settings

#: The access line's message: method, path (no query), status, bytes sent and milliseconds taken.
ACCESS_LOG_FORMAT = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
_REQUEST_ID_ATOM = "{x-request-id}o"


#: Paths whose last part is a secret: whoever reads the log must not be able to use the link.
_SECRET_IN_PATH = re.compile(r"^(/password/reset/|/v/)[^/]+")


def masked_path(path: str) -> str:
    """`path` with the secret of a password reset link or a certificate check token replaced by `…`."""
    return _SECRET_IN_PATH.sub(r"\1…", path)


def _integer(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


class GunicornLogger(glogging.Logger):
    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        configure_logging(Settings.from_env())
        # gunicorn's loggers write through the root logger's handler instead of handlers of their own.
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                if getattr(handler, "_gunicorn", False):
                    log.removeHandler(handler)
            log.propagate = True

    def access(self, resp: Response, req: Request, environ: MutableMapping[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        plain: dict[str, Any] = dict(self.atoms(resp, req, environ, request_time))
        plain["U"] = masked_path(str(plain.get("U", "")))
        atoms = self.atoms_wrapper_class(plain)
        request_id = atoms[_REQUEST_ID_ATOM]
        fields = {
            "request_id": None if request_id == "-" else request_id,
            "method": atoms["m"],
            "path": atoms["U"],
            "status": _integer(atoms["s"]),
            "duration_ms": _integer(atoms["M"]),
        }
        try:
            self.access_log.info(self.cfg.access_log_format, atoms, extra=fields)
        except Exception:  # as gunicorn's own: a line that cannot be written is reported, the request is done
            self.error(traceback.format_exc())
