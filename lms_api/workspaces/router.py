from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lms_api.auth import TrustedService
from lms_api.database import SessionDep
from lms_api.enrollments.service import allowed_workspace_kinds
from lms_api.errors import error_responses

router = APIRouter(tags=["workspaces"])


class AllowedWorkspaces(BaseModel):
    """The workspace kinds a user may launch now (from their active enrollments)."""

    user: str = Field(examples=["ada"])
    kinds: list[str] = Field(
        description="Empty when the user has no active enrollment", examples=[["jupyterlab"]]
    )


@router.get(
    "/workspaces/allowed",
    response_model=AllowedWorkspaces,
    responses=error_responses(
        401, 403, 422, 503, described={403: "Only the hub's service token (or an admin) may ask"}
    ),
)
async def read_allowed_workspaces(
    _caller: TrustedService,
    session: SessionDep,
    user: Annotated[str, Query(min_length=1, max_length=255, description="Hub username")],
) -> AllowedWorkspaces:
    """Workspace kinds a user may launch (asked by the hub's spawner; service token only)."""
    return AllowedWorkspaces(user=user, kinds=await allowed_workspace_kinds(session, user))
