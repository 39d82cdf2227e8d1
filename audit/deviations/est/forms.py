"""Forms for EST groups: setting a group up, the meeting's decisions and a hot spot's analysis."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from audit.deviations.est.models import MAX_MEASURE
from audit.deviations.est.services import MeasureInput
from audit.deviations.forms import _optional_id
from audit.deviations.models import MAX_DESCRIPTION


class GroupForm(FlaskForm):
    name = StringField(_l("Name of the group"), validators=[DataRequired(), Length(min=2, max=120)])


class PartyForm(FlaskForm):
    organisation = StringField(_l("Organisation (its short name)"), validators=[DataRequired(), Length(max=40)])
    role = SelectField(_l("Takes part as"))
    kind = SelectField(_l("Kind of party"))


class GroupAreaForm(FlaskForm):
    name = StringField(_l("Area the group covers"), validators=[DataRequired(), Length(min=2, max=120)])


class AreaLinkForm(FlaskForm):
    area_id = SelectField(_l("Your area"), coerce=_optional_id, validate_choice=False)


class RuleForm(FlaskForm):
    hot_n = IntegerField(_l("Weeks with reports (N)"), validators=[DataRequired(), NumberRange(1, 12)])
    hot_m = IntegerField(_l("Of the last weeks (M)"), validators=[DataRequired(), NumberRange(1, 12)])


class MeasureForm(FlaskForm):
    place = StringField(_l("Prioritised place"), validators=[Optional(), Length(max=MAX_MEASURE)])
    what = StringField(_l("Measure or resource"), validators=[DataRequired(), Length(min=2, max=MAX_MEASURE)])
    party_id = SelectField(_l("Party that sends it"), coerce=_optional_id, validate_choice=False)
    responsible = StringField(_l("Responsible"), validators=[Optional(), Length(max=200)])
    follow_up_on = DateField(_l("Follow up on"), validators=[Optional()])

    def measure_input(self) -> MeasureInput:
        return MeasureInput(
            what=self.what.data or "",
            party_id=self.party_id.data or 0,
            place=self.place.data or "",
            responsible=self.responsible.data or "",
            follow_up_on=self.follow_up_on.data,
        )


class MeasureStatusForm(FlaskForm):
    status = SelectField(_l("Status"))


class AnalysisForm(FlaskForm):
    causes = SelectMultipleField(_l("Causes"), validate_choice=False)
    notes = TextAreaField(_l("Other causes and notes"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])


class SpotCheckForm(FlaskForm):
    building_id = SelectField(_l("Building"), coerce=_optional_id, validate_choice=False)
    inspector_id = SelectField(_l("Inspector"), coerce=_optional_id, validate_choice=False)
