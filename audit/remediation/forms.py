"""Forms for the task workflow: the assignee's report, the manager's review, assignment and due dates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet
from wtforms.validators import DataRequired, Length, Optional

from audit.validators import DUE_DATES


class StartForm(FlaskForm):
    """Only the CSRF token."""


class WorkForm(FlaskForm):
    """The assignee's report from the site: what was done, a photo, and whether the task is done."""

    comment = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=5000)])
    photo = FileField(_l("Photo of the fixed item"))
    action = SelectField(choices=[SelectChoice("photo", "photo"), SelectChoice("done", "done")], default="photo")


class VerifyForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])


class ReopenForm(FlaskForm):
    comment = TextAreaField(_l("Why it is reopened"), validators=[DataRequired(), Length(max=5000)])


class AssignForm(FlaskForm):
    #: A user's id, or "" for nobody; the choices are the organisation's assignable members.
    assignee = SelectField(_l("Assign to"), validate_choice=True)
    tasks = SelectMultipleField(validate_choice=False)


class DueDateForm(FlaskForm):
    due_date = DateField(_l("New due date"), validators=[DataRequired(), DUE_DATES])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
