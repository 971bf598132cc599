"""Transactional outbox: every change writes an event in the same transaction.

Notifications and analytics read `outbox_events` later; a change that rolls back leaves no
event, and an event never exists without its change.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from lms_api.database import Base
from lms_api.timestamps import CreatedAt


class OutboxEvent(CreatedAt, Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def record_event(session: AsyncSession, topic: str, **payload: Any) -> None:
    """Add an event to the current transaction (e.g. `enrollment.granted`)."""
    session.add(OutboxEvent(topic=topic, payload=payload))
