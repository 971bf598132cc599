from pydantic import BaseModel, ConfigDict


class TrackSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    duration_weeks: int
    workspace_kinds: list[str]


class TrackPage(BaseModel):
    count: int
    results: list[TrackSummary]
