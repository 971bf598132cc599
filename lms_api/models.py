"""Imports every model so Alembic and create_all see the whole schema."""

from lms_api.curriculum.models import Project, ProjectStep, Track
from lms_api.database import Base
from lms_api.enrollments.models import Enrollment
from lms_api.people.models import Person

__all__ = ["Base", "Enrollment", "Person", "Project", "ProjectStep", "Track"]
