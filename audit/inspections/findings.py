"""What the result page shows of each item that is not met: the inspector's comment, value and photos, and the
remediation task it became (pure: it reads loaded objects, never the database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from audit.certificates.report import answer_value
from audit.checklists.schema import Checklist, MeasurementAnswer
from audit.inspections.models import Inspection
from audit.inspections.scoring import ScoreCard
from audit.photos.models import Photo
from audit.remediation.models import RemediationTask


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    text: str
    critical: bool
    #: The measured value with its unit, the step or the chosen option ("" when the item has none).
    value: str
    #: Whether `value` is a measurement (with its unit) rather than a step, an option or a note.
    measured: bool
    comment: str
    photos: tuple[Photo, ...]
    #: The task the item became when the inspection was approved (or the earlier one it failed again).
    task: RemediationTask | None


def findings(
    inspection: Inspection,
    card: ScoreCard,
    checklist: Checklist,
    language: str,
    tasks: Mapping[str, RemediationTask],
) -> list[Finding]:
    answers = {answer.item_key: answer for answer in inspection.answers}
    result = []
    for scored in card.failed_items:
        found = checklist.find_item(scored.key)
        answer = answers.get(scored.key)
        result.append(
            Finding(
                key=scored.key,
                text=found[1].text.get(language) if found else scored.key,
                critical=scored.critical,
                value=answer_value(scored.key, answer, language, checklist),
                measured=found is not None and isinstance(found[1].answer, MeasurementAnswer),
                comment=(answer.comment or "") if answer else "",
                photos=tuple(photo for photo in inspection.photos if photo.item_key == scored.key),
                task=tasks.get(scored.key),
            )
        )
    return result
