"""Which attempts a caller may see or answer, and when an attempt's answers are revealed (the
reveal policy): the rules of who sees what, apart from how attempts change and how they read.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.access import may_see_records_of
from lms_api.errors import Forbidden, NotFound
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.quizzes.attempts import FINAL, load_attempt
from lms_api.quizzes.content import RevealPolicy
from lms_api.quizzes.models import QuizAttempt


class AttemptNotFound(NotFound):
    """No such attempt, or not one the caller may see."""

    def __init__(self, attempt_id: int) -> None:
        super().__init__(f"No attempt {attempt_id}.")


Loader = Callable[[AsyncSession, int], Awaitable[Any]]


async def visible_attempt(
    session: AsyncSession, caller: Principal, attempt_id: int, load: Loader = load_attempt
) -> Any:
    """The attempt if the caller may read it: its student, their trainer, admins. `load`:
    how to read it (the ORM attempt, or the save's plain `attempts.AttemptRef`)."""
    attempt = await load(session, attempt_id)
    if attempt is None or not await may_see_records_of(session, caller, attempt.person.username):
        raise AttemptNotFound(attempt_id)
    return attempt


async def own_attempt(
    session: AsyncSession, caller: Principal, attempt_id: int, load: Loader = load_attempt
) -> Any:
    """The attempt if it is the caller's own (only its student answers and submits)."""
    attempt = await visible_attempt(session, caller, attempt_id, load)
    if attempt.person.username != caller.name:
        raise Forbidden("Only the student taking this attempt may answer or submit it.")
    return attempt


async def answers_revealed(session: AsyncSession, caller: Principal, attempt: QuizAttempt) -> bool:
    """Keys are for staff always; for the student only after submission, as the quiz says."""
    if caller.role in STAFF_ROLES:
        return True
    if attempt.status not in FINAL:
        return False
    policy = attempt.quiz.reveal_policy
    if policy == RevealPolicy.AFTER_SUBMISSION:
        return True
    if policy == RevealPolicy.AFTER_LAST_ATTEMPT and attempt.quiz.max_attempts is not None:
        rows = list(
            await session.scalars(
                select(QuizAttempt.status).where(
                    QuizAttempt.quiz_id == attempt.quiz_id,
                    QuizAttempt.person_id == attempt.person_id,
                )
            )
        )
        return len(rows) >= attempt.quiz.max_attempts and all(s in FINAL for s in rows)
    return False


REVEAL_NOTES = {
    RevealPolicy.AFTER_SUBMISSION: "Which answers were right, and the correct answers, are "
    "shown once the attempt is submitted.",
    RevealPolicy.AFTER_LAST_ATTEMPT: "Your total score is shown after each attempt; which "
    "answers were right, and the correct answers, after your last attempt.",
    RevealPolicy.NEVER: "This quiz shows only your total score and whether you passed, never "
    "which answers were right.",
}
