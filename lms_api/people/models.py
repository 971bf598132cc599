"""People: the LMS profile of a hub user (identity and role stay in the hub)."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lms_api.database import Base
from lms_api.timestamps import CreatedAt


class Person(CreatedAt, Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
