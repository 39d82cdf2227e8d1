"""Logging in, changing a password, choosing a new one from a reset link."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from audit.accounts.strength import MAX_PASSWORD_LENGTH
from audit.security import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class NewPasswordForm(FlaskForm):
    """The new password twice; how strong it must be is checked by the service, which says why."""

    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )

    @property
    def rule(self) -> str:
        return str(
            _l("At least %(length)s characters, and not one of the most common passwords.", length=MIN_PASSWORD_LENGTH)
        )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class ResetLinkForm(FlaskForm):
    """Only the CSRF token: the user is in the address."""
