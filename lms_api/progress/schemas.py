from pydantic import BaseModel, Field

from lms_api.enrollments.schemas import UtcDatetime


class StepCompletionOut(BaseModel):
    """A step marked done; `completed_at` never changes when the step is marked again."""

    step_id: int = Field(examples=[4])
    project_id: int = Field(examples=[2])
    track_code: str = Field(examples=["DP"])
    completed_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])


class StepProgress(BaseModel):
    id: int = Field(examples=[4])
    order: int = Field(examples=[1])
    title: str = Field(examples=["Model the tables"])
    done: bool = Field(examples=[True])
    completed_at: UtcDatetime | None = Field(examples=["2026-01-12T10:15:00Z"])


class Tally(BaseModel):
    steps_done: int = Field(ge=0, examples=[1])
    steps_total: int = Field(ge=0, examples=[2])
    pct_complete: float = Field(
        ge=0,
        le=100,
        description="Percent 0..100 (one decimal; 50.0 = half the steps done), not a fraction",
        examples=[50.0],
    )
    last_step_at: UtcDatetime | None = Field(examples=["2026-01-12T10:15:00Z"])


class ProjectProgress(Tally):
    id: int = Field(examples=[2])
    number: int = Field(examples=[2])
    title: str = Field(examples=["SQL analytics with DuckDB"])
    steps: list[StepProgress]


class TrackProgress(Tally):
    code: str = Field(examples=["DP"])
    name: str = Field(examples=["Data Professional"])
    projects: list[ProjectProgress]


class ProgressOut(BaseModel):
    """A student's progress in each track they are active in, project by project."""

    username: str = Field(examples=["ada"])
    tracks: list[TrackProgress]
