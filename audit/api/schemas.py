"""The bodies of API version 1: every request and response is one of these pydantic models.

The views validate requests and build responses through them, and `audit/api/openapi.py` publishes their JSON
schemas, so the document cannot say one thing while the API does another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from audit.buildings.features import Feature
from audit.deviations.catalogue import Urgency
from audit.deviations.workflow import DeviationStatus
from audit.inspections.answers import MAX_CHOICE, MAX_TEXT, VALUE_DECIMALS
from audit.inspections.models import AnswerResult, InspectionKind, InspectionStatus
from audit.inspections.scoring import ReasonCode
from audit.urls import MAX_ID

#: Exact weighted points: `str(fractions.Fraction)`, in lowest terms (scale items make quarters, thirds…).
ExactPoints = Annotated[
    str,
    Field(
        pattern=r"^(0|[1-9][0-9]*(/[1-9][0-9]*)?)$",
        description="Exact weighted points as a fraction in lowest terms: an integer (`97`) or "
        "`numerator/denominator` (`481/2` is 240.5). Never rounded.",
        examples=["97", "481/2"],
    ),
]
#: A ratio of weighted points as a plain number, for display and sorting.
Ratio = Annotated[float, Field(ge=0, le=1, description="Between 0 and 1, rounded to 6 decimal places.")]
Count = Annotated[int, Field(ge=0)]
#: Most answers one batch may carry (`POST /api/v1/inspections/<id>/answers`).
MAX_BATCH = 200
UrlPath = Annotated[str, Field(description="A path on this server.")]


# --- requests ------------------------------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StartInspection(_Request):
    """Start an inspection of a building."""

    building_id: int = Field(ge=1, le=MAX_ID, description="A building of the caller's organisation.")
    kind: InspectionKind = InspectionKind.certification
    checklist_key: str = Field(
        default="trygga-hus", max_length=64, description="The checklist; its newest version is pinned."
    )


class ReportDeviation(_Request):
    """Report a deviation seen between inspections (sent by the offline outbox when the device is online again).

    The description must not identify private persons: text holding a Swedish personal identity number is refused
    (422 `invalid_report`)."""

    category: str = Field(max_length=40, description="A category key of the deviation catalogue, e.g. `graffiti`.")
    area_id: int = Field(ge=1, le=MAX_ID, description="An area of the caller's organisation.")
    building_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A building in that area.")
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A stored place in that area.")
    place_name: str | None = Field(
        default=None, max_length=120, description="A place typed on the device: found again by name, or stored new."
    )
    seen_at: AwareDatetime | None = Field(default=None, description="When it was seen (default: now); not later.")
    description: str = Field(min_length=1, max_length=500)
    urgency: Urgency | None = Field(default=None, description="Default: the category's urgency.")


class ReportDeviationWithPhoto(ReportDeviation):
    """The same report as multipart/form-data, with a photo (an empty field is as if left out)."""

    photo: bytes | None = Field(default=None, description="A JPEG, PNG or WebP image of what was seen.")


class AnswerChange(_Request):
    """Give only the field the item's answer type takes (and a comment): another field is refused with 422, as on
    the walk's page (`audit.inspections.answers`)."""

    result: Literal["pass", "fail", "na"] | None = Field(
        default=None, description="For pass/fail items; `na` where the item allows it."
    )
    value: float | str | None = Field(
        default=None,
        description=f"For measurement and scale items: a decimal number (a decimal comma is accepted) with at most "
        f"{VALUE_DECIMALS} decimals; more decimals are refused with 422, never rounded.",
    )
    choice: str | None = Field(default=None, max_length=MAX_CHOICE, description="For choice items: the option's key.")
    text: str | None = Field(default=None, max_length=MAX_TEXT, description="For text items.")
    comment: str | None = Field(default=None, max_length=MAX_TEXT)
    base_revision: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ID,
        description="The revision the change is based on (0 for a new answer); omitted or null overwrites.",
    )


class BatchAnswer(AnswerChange):
    """One answer of a batch: the body of the single PUT, with its own idempotency key and its item."""

    key: str = Field(
        min_length=1,
        max_length=100,
        description="A client-generated id of this answer, as the single PUT's `Idempotency-Key`: an answer sent "
        "before under the same key (alone or in a batch) is replayed, not saved again.",
    )
    item_key: str = Field(min_length=1, description="The checklist item's key, e.g. `GAR-03`.")


class AnswerBatch(_Request):
    """Several answers in one request, saved in the order given, each on its own."""

    answers: list[BatchAnswer] = Field(min_length=1, max_length=MAX_BATCH)


class PhotoUpload(BaseModel):
    """A multipart/form-data body."""

    item_key: str = Field(min_length=1, description="The checklist item the photo belongs to.")
    file: bytes = Field(description="A JPEG, PNG or WebP image.")


# --- answers and progress ------------------------------------------------------------------------------------------


class Answer(BaseModel):
    """The stored answer to one item (read from the stored row or from what `save_answer` stored)."""

    model_config = ConfigDict(from_attributes=True)

    item_key: str
    result: AnswerResult | None = Field(
        description="`pass`/`fail` (given or worked out from a value or choice), `na` for not applicable, "
        "`noted` for a text item with text, null when not answered."
    )
    value: float | None
    choice: str | None
    text: str | None
    comment: str | None
    revision: int = Field(ge=1, description="1 for the first answer; grows with every change.")
    answered_at: datetime


class SectionProgress(BaseModel):
    key: str
    applicable: bool
    answered: Count
    total: Count


class Progress(BaseModel):
    """Applicable scored items answered so far, in all and per section."""

    answered: Count
    total: Count
    sections: list[SectionProgress]


class AnswerSaved(BaseModel):
    """The stored answer and the inspection's new progress."""

    answer: Answer
    progress: Progress


class BatchOutcome(BaseModel):
    """What became of one answer of a batch: what the single PUT would have answered it."""

    key: str
    item_key: str
    status: int = Field(
        description="The single PUT's status: 200 saved; 409 `conflict` (see `current`) or `inspection_final`; 422 "
        "`invalid_input` (see `details`), `invalid_answer` or `idempotency_key_reused`; 403 `forbidden`."
    )
    replayed: bool = Field(description="The answer was saved before under this key: this is what it got then.")
    answer: Answer | None = Field(default=None, description="The stored answer (status 200).")
    error: str | None = Field(default=None, description="The error's code (any other status).")
    message: str | None = Field(default=None, description="What went wrong, fit to show to a user.")
    current: Answer | None = Field(default=None, description="`conflict`: the stored answer.")
    details: list[FieldProblem] | None = Field(default=None, description="`invalid_input`: the offending fields.")


class BatchSaved(BaseModel):
    """One outcome per answer, in the order sent; then the inspection's progress after them all."""

    results: list[BatchOutcome]
    progress: Progress


class Photo(BaseModel):
    id: int
    item_key: str
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    width: int
    height: int
    url: UrlPath = Field(description="The cleaned JPEG (needs the same login).")
    thumbnail_url: UrlPath = Field(description="A small version of it.")


# --- the score card ------------------------------------------------------------------------------------------------


class Reason(BaseModel):
    """One condition of the pass rule that fails, with the figures that explain it."""

    code: ReasonCode
    section: str | None
    item: str | None
    actual: Ratio | None
    required: Ratio | None
    items: list[str]
    text: str = Field(description="The reason in words.")


class SectionScore(BaseModel):
    key: str
    applicable: bool
    score: Ratio | None = Field(description="`earned / possible`; null when nothing in the section was scored.")
    minimum: Ratio | None = Field(description="The section's minimum in the pass rule, if it has one.")
    earned: ExactPoints
    possible: Count = Field(description="The weights of the scored items.")
    answered: Count
    to_answer: Count


class ChecklistRef(BaseModel):
    key: str
    version: int


class ScoreCard(BaseModel):
    """The score worked out when the inspection was submitted."""

    checklist: ChecklistRef
    passed: bool
    total: Ratio | None = Field(description="`earned / possible`; null when nothing was scored.")
    earned: ExactPoints
    possible: Count = Field(description="The weights of the scored items.")
    sections: list[SectionScore]
    failed_items: list[str]
    failed_critical_items: list[str]
    reasons: list[Reason] = Field(description="Why it does not pass (empty if it does).")


# --- inspections and buildings -------------------------------------------------------------------------------------


class Named(BaseModel):
    id: int
    name: str


class PinnedChecklist(ChecklistRef):
    """The checklist version the inspection is walked against."""

    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class Inspection(BaseModel):
    id: int
    url: UrlPath = Field(description="This resource's path.")
    status: InspectionStatus
    kind: InspectionKind
    building: Named
    checklist: PinnedChecklist
    inspector: Named
    created_at: datetime
    submitted_at: datetime | None
    score: ScoreCard | None = Field(description="Null until the inspection is submitted.")
    progress: Progress
    answers: dict[str, Answer] = Field(description="The stored answers by item key.")
    photos: list[Photo]


class LatestInspection(BaseModel):
    id: int
    status: InspectionStatus
    passed: bool | None = Field(description="Null until the inspection is submitted.")
    url: UrlPath


class Building(BaseModel):
    id: int
    name: str
    address: str = Field(description="Street address, postcode and city.")
    area: str | None = Field(description="The area's name.")
    features: list[Feature] = Field(json_schema_extra={"uniqueItems": True})
    latest_inspection: LatestInspection | None


class BuildingList(BaseModel):
    buildings: list[Building] = Field(description="By name.")


class Deviation(BaseModel):
    """A deviation report as stored."""

    id: int
    category: str
    status: DeviationStatus
    urgency: Urgency
    sensitive: bool
    area_id: int
    building_id: int | None
    place: Named | None
    seen_at: datetime
    reported_at: datetime
    url: UrlPath


# --- errors --------------------------------------------------------------------------------------------------------


class Error(BaseModel):
    """Every error response has this shape; some add fields (the other *Error schemas)."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="A short machine-readable code, e.g. `conflict`, `invalid_input`, `not_found`.")
    message: str = Field(description="What went wrong, fit to show to a user.")


class FieldProblem(BaseModel):
    field: str = Field(description="The offending field (dotted path).")
    message: str


class InvalidInputError(Error):
    """`invalid_input`: the JSON body does not fit the request schema."""

    details: list[FieldProblem]


class ConflictError(Error):
    """`conflict`: the answer changed after `base_revision`; `current` is the stored answer."""

    current: Answer


class DraftExistsError(Error):
    """`draft_exists`: the building has a draft of this kind already; continue that one (or discard it first)."""

    draft: int = Field(description="The id of the draft to continue.")


class IncompleteError(Error):
    """`incomplete`: the inspection cannot be submitted yet."""

    missing: list[str] = Field(description="Applicable items without an answer.")
    photos_missing: list[str] = Field(description="Failed items whose rule needs a photo, and which have none.")
