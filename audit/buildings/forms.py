"""Forms for areas and buildings (admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from audit.buildings.features import Feature


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AreaForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])


class BuildingForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    area_id = SelectField(_l("Area"), coerce=int, validators=[Optional()])
    street_address = StringField(_l("Street address"), validators=[DataRequired(), Length(max=200)])
    postcode = StringField(
        _l("Postcode"),
        validators=[DataRequired(), Regexp(r"^\d{3} ?\d{2}$", message=_l("Write the postcode as 123 45."))],
    )
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    property_designation = StringField(_l("Property designation"), validators=[Optional(), Length(max=100)])
    year_built = IntegerField(_l("Year built"), validators=[Optional(), NumberRange(min=1600, max=2100)])
    apartments = IntegerField(_l("Number of apartments"), validators=[Optional(), NumberRange(min=0, max=10000)])
    features = MultiCheckboxField(
        _l("Features"), choices=[SelectChoice(feature.value, feature.value) for feature in Feature]
    )
