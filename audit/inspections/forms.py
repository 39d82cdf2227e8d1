"""Forms for starting, submitting and reviewing inspections (answers go through the JSON API or the section form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet
from wtforms.validators import DataRequired, Length, Optional

from audit.inspections.models import InspectionKind


class StartInspectionForm(FlaskForm):
    kind = SelectField(
        _l("Kind of inspection"), choices=[SelectChoice(kind.value, kind.value) for kind in InspectionKind]
    )
    checklist = SelectField(_l("Checklist"), validators=[DataRequired()])


class SubmitForm(FlaskForm):
    """Only the CSRF token: submitting needs no other input."""


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("What the inspector should do"), validators=[DataRequired(), Length(max=5000)])


class DiscardForm(FlaskForm):
    reason = TextAreaField(_l("Why the draft is discarded"), validators=[DataRequired(), Length(max=2000)])
