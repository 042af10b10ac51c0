"""Extension objects, created unbound and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf import CSRFProtect

from divert.app.db import Database

db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
