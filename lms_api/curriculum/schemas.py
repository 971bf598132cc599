"""Curriculum shapes: what the catalog, readers and admins send and receive."""

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from lms_api.curriculum.enums import DeliverableKind, ProjectType, WorkspaceKind
from lms_api.pages import Page
from lms_api.types import INT32_MAX, Line, Text

# --- field types, shared by create and update ------------------------------------------
TrackCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Z][A-Z0-9_-]*$"),
    Field(description="Upper-case code of the track, used in URLs", examples=["DP"]),
]
Name = Annotated[Line, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[Text, StringConstraints(max_length=10_000)]
DurationWeeks = Annotated[int, Field(ge=1, le=260)]
PriceCents = Annotated[
    int,
    Field(ge=0, le=INT32_MAX, description="Price in the smallest unit of `currency` (cents)"),
]
Currency = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3, pattern=r"^[a-z]{3}$"),
    Field(description="ISO 4217 code, lower case, as Stripe spells it"),
]


def _no_duplicates(kinds: list[WorkspaceKind]) -> list[WorkspaceKind]:
    if len(set(kinds)) != len(kinds):
        raise ValueError("workspace kinds must not repeat")
    return kinds


WorkspaceKinds = Annotated[
    list[WorkspaceKind],
    Field(min_length=1, description="Workspaces the track's students may start, no duplicates"),
    AfterValidator(_no_duplicates),
]
ProjectNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
EstimatedHours = Annotated[int, Field(ge=0, le=2000)]
TechItem = Annotated[Line, StringConstraints(min_length=1, max_length=50)]
TechStack = Annotated[list[TechItem], Field(max_length=30)]
StepOrder = Annotated[int, Field(ge=1, le=INT32_MAX)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_Input):
    """Partial update: leave a field out to keep it; `null` is refused for every field."""

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for fields the client sent (defaults are not validated).
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, mode="json")


# --- errors (documented in OpenAPI; rendered by lms_api.errors) --------------------------
# --- public catalog ----------------------------------------------------------------------
class CatalogProject(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int = Field(examples=[1])
    title: str = Field(examples=["Exploring a dataset with pandas"])


class CatalogTrack(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "DP",
                    "name": "Data Professional",
                    "description": "SQL, Python, pipelines and dashboards.",
                    "duration_weeks": 24,
                    "price_cents": 150000,
                    "currency": "eur",
                    "workspace_kinds": ["jupyterlab", "superset"],
                    "projects": [{"number": 1, "title": "Exploring a dataset with pandas"}],
                }
            ]
        },
    )

    code: str
    name: str
    description: str
    duration_weeks: int
    price_cents: int
    currency: str
    workspace_kinds: list[str]
    projects: list[CatalogProject]


# --- reading -----------------------------------------------------------------------------
_TRACK_EXAMPLE = {
    "code": "DP",
    "name": "Data Professional",
    "description": "SQL, Python, pipelines and dashboards.",
    "duration_weeks": 24,
    "price_cents": 150000,
    "currency": "eur",
    "workspace_kinds": ["jupyterlab", "superset"],
    "is_active": True,
}
_PROJECT_SUMMARY_EXAMPLE = {
    "id": 1,
    "number": 1,
    "title": "Exploring a dataset with pandas",
    "type": "INTERNAL",
    "tech_stack": ["python", "pandas"],
    "estimated_hours": 36,
}


class TrackSummary(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_TRACK_EXAMPLE]}
    )

    code: str
    name: str
    description: str
    duration_weeks: int
    price_cents: int
    currency: str
    workspace_kinds: list[str]
    is_active: bool


class TrackPage(Page[TrackSummary]):
    """`GET /tracks`: one page of tracks (`lms_api.client.LmsClient.tracks()` reads it)."""


class ProjectSummary(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_PROJECT_SUMMARY_EXAMPLE]}
    )

    id: int
    number: int
    title: str
    type: ProjectType
    tech_stack: list[str]
    estimated_hours: int


class TrackDetail(TrackSummary):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_TRACK_EXAMPLE, "projects": [_PROJECT_SUMMARY_EXAMPLE]}]}
    )

    projects: list[ProjectSummary]


class StepOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{"id": 1, "order": 1, "title": "Load the data", "description": ""}]
        },
    )

    id: int
    order: int
    title: str
    description: str


class DeliverableOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{"id": 1, "title": "Notebook", "kind": "notebook", "required": True}]
        },
    )

    id: int
    title: str
    kind: DeliverableKind
    required: bool


class ProjectDetail(ProjectSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PROJECT_SUMMARY_EXAMPLE,
                    "track_code": "DP",
                    "description": "Project 1 of the Data Professional track.",
                    "steps": [{"id": 1, "order": 1, "title": "Load the data", "description": ""}],
                    "deliverables": [
                        {"id": 1, "title": "Notebook", "kind": "notebook", "required": True}
                    ],
                }
            ]
        }
    )

    track_code: str
    description: str
    steps: list[StepOut]
    deliverables: list[DeliverableOut]


# --- writing (admins) --------------------------------------------------------------------
class TrackCreate(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "ML",
                    "name": "Machine Learning Engineering",
                    "description": "Models from notebook to production.",
                    "duration_weeks": 20,
                    "price_cents": 190000,
                    "currency": "eur",
                    "workspace_kinds": ["jupyterlab", "code-server"],
                }
            ]
        }
    )

    code: TrackCode
    name: Name
    description: Description = ""
    duration_weeks: DurationWeeks = 12
    price_cents: PriceCents = 0
    currency: Currency = "eur"
    workspace_kinds: WorkspaceKinds
    is_active: bool = True


class TrackUpdate(_Patch):
    """The code is the track's identity (URLs, enrollments); it cannot be changed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"price_cents": 160000}, {"is_active": False}]}
    )

    name: Name | None = None
    description: Description | None = None
    duration_weeks: DurationWeeks | None = None
    price_cents: PriceCents | None = None
    currency: Currency | None = None
    workspace_kinds: WorkspaceKinds | None = None
    is_active: bool | None = None


class ProjectCreate(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": 1,
                    "title": "Training a first model",
                    "description": "From a CSV to a scored model.",
                    "type": "INTERNAL",
                    "tech_stack": ["python", "scikit-learn"],
                    "estimated_hours": 30,
                }
            ]
        }
    )

    number: ProjectNumber
    title: Name
    description: Description = ""
    type: ProjectType = ProjectType.INTERNAL
    tech_stack: TechStack = Field(default_factory=list)
    estimated_hours: EstimatedHours = 0


class ProjectUpdate(_Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Training and scoring a model"}]}
    )

    number: ProjectNumber | None = None
    title: Name | None = None
    description: Description | None = None
    type: ProjectType | None = None
    tech_stack: TechStack | None = None
    estimated_hours: EstimatedHours | None = None


class StepCreate(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"order": 1, "title": "Load the data", "description": "Read the CSV."}]
        }
    )

    order: StepOrder
    title: Name
    description: Description = ""


class StepUpdate(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"order": 2}]})

    order: StepOrder | None = None
    title: Name | None = None
    description: Description | None = None


class DeliverableCreate(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"title": "Notebook", "kind": "notebook", "required": True}]
        }
    )

    title: Name
    kind: DeliverableKind
    required: bool = True


class DeliverableUpdate(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"required": False}]})

    title: Name | None = None
    kind: DeliverableKind | None = None
    required: bool | None = None
