"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from audit.access import ALL_ROLES, allow, public
from audit.accounts.auth import LoginFailed, LoginThrottled, authenticate, begin_login, end_login
from audit.accounts.forms import LoginForm
from audit.accounts.models import Role
from audit.extensions import db
from audit.urls import same_site_path

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site; never an outside address (open redirect)."""
    if path := same_site_path(target):
        return path
    if current_user.is_authenticated and current_user.role is Role.contractor:
        return url_for("remediation.index", unverified=1)  # contractors work only on their tasks
    return url_for("buildings.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            principal = authenticate(db.session, form.email.data or "", form.password.data or "")
        except LoginThrottled:
            form.form_errors.append(_("Too many failed attempts. Wait 15 minutes and try again."))
            return render_template("accounts/login.html", form=form), 429
        except LoginFailed:
            form.form_errors.append(_("Wrong e-mail or password."))
        else:
            begin_login(principal)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@allow(ALL_ROLES)
def logout() -> ResponseReturnValue:
    end_login(db.session, current_user._get_current_object())
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))
