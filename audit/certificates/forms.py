"""Forms for issuing, revoking and printing certificates, and for making a certificate's sign again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet
from wtforms.validators import DataRequired, Length

from audit.certificates.documents import PaperSize
from audit.certificates.models import BatchFormat


class IssueForm(FlaskForm):
    """The CSRF token and the verification URL shown on the page (signed, see `addresses.py`); everything else on
    the certificate comes from the inspection."""

    verification = HiddenField(validators=[DataRequired()])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Why is the certificate revoked?"), validators=[DataRequired(), Length(max=2000)])


class RegenerateSignForm(FlaskForm):
    sign_reason = TextAreaField(_l("Why is the sign made again?"), validators=[DataRequired(), Length(max=2000)])


class BatchForm(FlaskForm):
    """All current certificates of an area (area "0": every area), or of the buildings ticked."""

    area = SelectField(_l("Area"), default="0")
    buildings = SelectMultipleField(_l("Or only these buildings"), choices=[])
    format = RadioField(
        _l("As"),
        choices=[
            SelectChoice(BatchFormat.pdf.value, _l("One PDF")),
            SelectChoice(BatchFormat.zip.value, _l("A ZIP file of PDFs")),
        ],
        default=BatchFormat.pdf.value,
    )
    size = RadioField(
        _l("Paper"), choices=[SelectChoice(size.value, size.value) for size in PaperSize], default=PaperSize.a4.value
    )
    language = RadioField(
        _l("Language"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")], default="sv"
    )
