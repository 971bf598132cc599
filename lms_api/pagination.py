"""List conventions: `limit`/`offset` in, `{count, next, previous, results}` out, stable order."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.links import page_link
from lms_api.pages import Page as Page  # the model lives apart, for the notebook client
from lms_api.types import INT64_MAX

MAX_LIMIT = 200


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX, description="Rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    params: PageParams,
    request: Request,
    convert: Any = None,
) -> dict[str, Any]:
    """Run `statement` (already ordered) for one page; `convert` maps each row to an item."""
    count = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = (await session.scalars(statement.limit(params.limit).offset(params.offset))).all()
    end = params.offset + len(rows)
    return {
        "count": count or 0,
        "next": page_link(request, params.limit, end) if end < (count or 0) else None,
        "previous": page_link(request, params.limit, max(0, params.offset - params.limit))
        if params.offset > 0
        else None,
        "results": [convert(r) for r in rows] if convert else list(rows),
    }
