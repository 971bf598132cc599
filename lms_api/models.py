"""Imports every model so Alembic and create_all see the whole schema."""

from lms_api.class_sessions.models import ClassSession, ClassSessionStudent, WorkspaceActivity
from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.database import Base
from lms_api.enrollments.models import Enrollment, EnrollmentEvent
from lms_api.outbox import OutboxEvent
from lms_api.payments.models import Payment, PaymentCustomer, PaymentEvent, WebhookEvent
from lms_api.people.models import Person, TrainerAssignment
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.models import (
    AnswerOption,
    Question,
    Quiz,
    QuizAnswerEvent,
    QuizAttempt,
    QuizGeneration,
    StudentAnswer,
)
from lms_api.submissions.models import Submission, SubmissionEvent, SubmissionVersion

__all__ = [
    "AnswerOption",
    "Base",
    "ClassSession",
    "ClassSessionStudent",
    "Deliverable",
    "Enrollment",
    "EnrollmentEvent",
    "OutboxEvent",
    "Payment",
    "PaymentCustomer",
    "PaymentEvent",
    "Person",
    "Project",
    "ProjectStep",
    "Question",
    "Quiz",
    "QuizAnswerEvent",
    "QuizAttempt",
    "QuizGeneration",
    "StepCompletion",
    "StudentAnswer",
    "Submission",
    "SubmissionEvent",
    "SubmissionVersion",
    "Track",
    "TrainerAssignment",
    "WebhookEvent",
    "WorkspaceActivity",
]
