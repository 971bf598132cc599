from pydantic import BaseModel, ConfigDict


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    track_code: str
    track_name: str
    status: str
    source: str
    workspace_kinds: list[str]
