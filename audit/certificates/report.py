"""The audit report of a submitted inspection: plain facts for `templates/pdf/report.html`, and its PDF."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from audit.checklists.schema import Checklist, ChoiceAnswer, MeasurementAnswer, ScaleAnswer
from audit.errors import N_, DomainError
from audit.i18n import LANGUAGES
from audit.inspections.models import Answer, Inspection, InspectionStatus
from audit.inspections.scoring import ItemResult, Outcome, ScoreCard
from audit.inspections.services import score_inspection
from audit.inspections.walk import counted, inspection_layout
from audit.pdf import render_pdf
from audit.remediation.follow_up import inspection_checklist

#: Inspections with a result to report: submitted (awaiting review) or approved.
REPORTABLE = frozenset({InspectionStatus.submitted, InspectionStatus.approved})


@dataclass(frozen=True, slots=True)
class ReportItem:
    key: str
    text: str
    outcome: Outcome
    critical: bool
    #: The measured value, step or chosen option as text ("" when the item has none).
    value: str
    comment: str
    #: Thumbnails, as paths inside the photo store.
    thumbnails: tuple[str, ...]

    @property
    def failed_critical(self) -> bool:
        return self.critical and self.outcome is Outcome.failed


@dataclass(frozen=True, slots=True)
class ReportSection:
    key: str
    title: str
    applicable: bool
    score: float | None
    minimum: float | None
    items: tuple[ReportItem, ...]

    @property
    def below_minimum(self) -> bool:
        return self.score is not None and self.minimum is not None and self.score < self.minimum


@dataclass(frozen=True, slots=True)
class Report:
    inspection_id: int
    building_name: str
    address: str
    property_designation: str | None
    organisation_name: str
    kind: object
    status: InspectionStatus
    inspector_name: str
    reviewer_name: str | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    checklist_title: str
    checklist_key: str
    checklist_version: int
    min_total_percent: int
    card: ScoreCard
    checklist: Checklist
    sections: tuple[ReportSection, ...]
    #: Answered and total applicable scored items, counted as the walk counts them (`walk.counted`): a text item
    #: is an optional note and counts in neither.
    answered_items: int
    items_to_answer: int

    @property
    def total(self) -> float | None:
        return None if self.card.total is None else float(self.card.total)


def _number(value: Decimal) -> str:
    """12.500 → "12.5", 40.000 → "40"."""
    return format(value.normalize(), "f")


def answer_value(key: str, answer: Answer | None, language: str, checklist: Checklist) -> str:
    """The answer's value as the report shows it: "12 lux", "3 (1–5)", the option's label, or a text note."""
    found = checklist.find_item(key)
    if answer is None or found is None:
        return ""
    spec = found[1].answer
    if isinstance(spec, MeasurementAnswer) and answer.value is not None:
        return f"{_number(answer.value)} {spec.unit.value}"
    if isinstance(spec, ScaleAnswer) and answer.value is not None:
        return f"{_number(answer.value)} ({spec.min}–{spec.max})"
    if isinstance(spec, ChoiceAnswer) and answer.choice:
        option = spec.option(answer.choice)
        return option.label.get(language) if option else answer.choice
    return answer.text or ""


def build_report(inspection: Inspection, language: str) -> Report:
    """Everything the report shows, from the inspection, its answers, photos and the scoring result."""
    if inspection.status not in REPORTABLE:
        raise DomainError(N_("A report is made of a submitted inspection."))
    # The checklist and the count of the walk and of submission: a follow-up's carried-over items only.
    checklist = inspection_checklist(inspection)
    card = score_inspection(inspection)
    answers = {answer.item_key: answer for answer in inspection.answers}
    progress = counted(
        inspection_layout(inspection), {key for key, answer in answers.items() if answer.result is not None}
    )
    thumbnails: dict[str, list[str]] = defaultdict(list)
    for photo in inspection.photos:
        thumbnails[photo.item_key].append(photo.thumbnail_path)
    results: dict[str, ItemResult] = {result.key: result for result in card.items}
    sections = []
    for section, scored in zip(checklist.sections, card.sections, strict=True):
        items = tuple(
            ReportItem(
                key=item.key,
                text=item.text.get(language),
                outcome=results[item.key].outcome,
                critical=item.critical,
                value=answer_value(item.key, answers.get(item.key), language, checklist),
                comment=(answers[item.key].comment or "") if item.key in answers else "",
                thumbnails=tuple(thumbnails.get(item.key, ())),
            )
            for item in section.items
        )
        sections.append(
            ReportSection(
                key=section.key,
                title=section.title.get(language),
                applicable=scored.applicable,
                score=None if scored.score is None else float(scored.score),
                minimum=None if scored.minimum is None else float(scored.minimum),
                items=items,
            )
        )
    building = inspection.building
    return Report(
        inspection_id=inspection.id,
        building_name=building.name,
        address=building.address,
        property_designation=building.property_designation,
        organisation_name=inspection.organisation.name,
        kind=inspection.kind,
        status=inspection.status,
        inspector_name=inspection.inspector.name,
        reviewer_name=inspection.reviewer.name if inspection.reviewer else None,
        submitted_at=inspection.submitted_at,
        reviewed_at=inspection.reviewed_at,
        checklist_title=checklist.title.get(language),
        checklist_key=checklist.key,
        checklist_version=checklist.version,
        min_total_percent=checklist.pass_rule.min_total_percent,
        card=card,
        checklist=checklist,
        sections=tuple(sections),
        answered_items=sum(done for _key, _applies, done, _total in progress),
        items_to_answer=sum(total for _key, _applies, _done, total in progress),
    )


def render_report(inspection: Inspection, language: str = "sv") -> bytes:
    if language not in LANGUAGES:
        raise ValueError(f"no report in {language!r}")
    report = build_report(inspection, language)
    return render_pdf("pdf/report.html", {"report": report}, language=language, stylesheet="pdf/report.css")
