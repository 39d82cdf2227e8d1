"""Form validators that the forms of every package share."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from wtforms import Field, Form, ValidationError

from audit.certificates.status import today_in_sweden


class DateWindow:
    """A date a user enters lies within a window around today (a Swedish calendar day).

    A typing slip (0001-01-01, 9999-12-31) is refused with the window it must be in, instead of being stored,
    sorted first or last in every list, and printed on the reports.
    """

    def __init__(self, *, past: timedelta, future: timedelta) -> None:
        self.past = past
        self.future = future

    def window(self) -> tuple[date, date]:
        today = today_in_sweden()
        return today - self.past, today + self.future

    def __call__(self, _form: Form, field: Field) -> None:
        if not isinstance(field.data, date):
            return
        first, last = self.window()
        if not first <= field.data <= last:
            raise ValidationError(
                _("Choose a date from %(first)s to %(last)s.", first=first.isoformat(), last=last.isoformat())
            )


#: Due dates of remediation tasks: overdue by at most a year, and no further ahead than a long renovation.
DUE_DATES = DateWindow(past=timedelta(days=366), future=timedelta(days=5 * 366))
