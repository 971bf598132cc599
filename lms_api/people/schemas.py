from pydantic import BaseModel

from lms_api.auth import Role
from lms_api.enrollments.schemas import EnrollmentOut


class MeOut(BaseModel):
    username: str
    role: Role
    enrollments: list[EnrollmentOut]
