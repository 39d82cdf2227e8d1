"""Flask extensions, created unbound here and bound to each app in `create_app()`."""

from flask_wtf.csrf import CSRFProtect

from audit.database import Database

db = Database()
csrf = CSRFProtect()
