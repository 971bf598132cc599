from fastapi import APIRouter
from sqlalchemy import select

from lms_api.auth import CurrentPrincipal
from lms_api.curriculum.models import Track
from lms_api.curriculum.schemas import TrackPage, TrackSummary
from lms_api.database import SessionDep

router = APIRouter(tags=["curriculum"])


@router.get("/tracks", response_model=TrackPage)
async def list_tracks(_caller: CurrentPrincipal, session: SessionDep) -> TrackPage:
    """The school's tracks, ordered by code."""
    tracks = (await session.scalars(select(Track).order_by(Track.code))).all()
    return TrackPage(count=len(tracks), results=[TrackSummary.model_validate(t) for t in tracks])
