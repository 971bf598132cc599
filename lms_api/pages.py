"""The page every list route answers with, `{count, next, previous, results}`.

Apart from `pagination` (the query helpers): only pydantic, so the notebook client can parse
pages into the same model the server documents.
"""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    count: int = Field(description="Rows matching the filters, on every page", examples=[120])
    next: str | None = Field(
        description="The next page's URL; null on the last page",
        examples=["https://school.example/services/lms-api/api/v1/tracks?limit=50&offset=50"],
    )
    previous: str | None = Field(
        description="The previous page's URL; null on the first page", examples=[None]
    )
    results: list[T]
