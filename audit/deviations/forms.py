"""Forms for deviation reports: the phone-first report form and the coordinators' follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet
from wtforms.validators import DataRequired, Length, Optional

from audit.deviations.catalogue import Urgency
from audit.deviations.models import MAX_DESCRIPTION, MAX_PLACE_NAME
from audit.deviations.workflow import TRIAGE_ACTIONS
from audit.urls import MAX_ID


def _optional_id(value: object) -> int | None:
    """A select's value as an id; "" (none chosen) and anything that is not an id in range is None."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


class ReportForm(FlaskForm):
    """What was seen, where and when; the choices are filled in by the view from the catalogue and the areas."""

    category = RadioField(_l("What"), validators=[DataRequired(_l("Choose a category."))])
    area_id = SelectField(_l("Area"), coerce=_optional_id, validators=[DataRequired(_l("Choose an area."))])
    building_id = SelectField(_l("Building (optional)"), coerce=_optional_id, validate_choice=False)
    place_id = SelectField(_l("Place (optional)"), coerce=_optional_id, validate_choice=False)
    place_name = StringField(_l("Or a new place"), validators=[Optional(), Length(max=MAX_PLACE_NAME)])
    seen_at = DateTimeLocalField(_l("Seen"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    description = TextAreaField(
        _l("What did you see?"),
        validators=[DataRequired(_l("Describe briefly what you saw.")), Length(max=MAX_DESCRIPTION)],
    )
    #: Anything but an urgency (nothing chosen, a value the list does not offer) is the category's default.
    urgency = SelectField(_l("Urgency"), validate_choice=False)
    photo = FileField(_l("Photo (optional)"))

    def urgency_value(self) -> Urgency | None:
        return Urgency(self.urgency.data) if self.urgency.data in Urgency.__members__ else None


class TriageForm(FlaskForm):
    action = SelectField(choices=[SelectChoice(action.value, action.value) for action in TRIAGE_ACTIONS])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=MAX_DESCRIPTION)])


class LinkForm(FlaskForm):
    other = StringField(_l("Report number"), validators=[DataRequired()])


class ShareForm(FlaskForm):
    #: "1" shares the report with the EST groups' partners, anything else takes it back.
    shared = HiddenField()


class TaskForm(FlaskForm):
    building_id = SelectField(_l("Building to fix"), coerce=_optional_id, validate_choice=False)
