"""Flask extensions, created unbound here and bound to each app in `create_app()`."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from audit.database import Database

db = Database()
csrf = CSRFProtect()
#: Rate limits for public pages; counted where `TRYGGAHUS_RATELIMIT_STORAGE_URI` says (memory by default).
limiter = Limiter(key_func=get_remote_address)
