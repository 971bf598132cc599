"""Running a Gemini quiz generation: the per-hour quota, the log of each run, and the draft it
saves; apart from the route (HTTP) and the Gemini client itself (quizzes.generation).
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms_api.config import Settings
from lms_api.errors import DomainError, ErrorCode
from lms_api.people.models import Person
from lms_api.principal import Principal
from lms_api.quizzes import service
from lms_api.quizzes.content import GenerateQuizIn
from lms_api.quizzes.generation import GenerationFailed, GenerationNotConfigured, QuizGenerator
from lms_api.quizzes.models import QuizGeneration
from lms_api.quizzes.presenters import fresh_detail
from lms_api.quizzes.schemas import GeneratedQuizOut, GenerationInfo, QuizIn
from lms_api.timestamps import as_utc, utcnow


class GenerationOff(DomainError):
    """No Gemini key is configured for lms-api."""

    status, code = 503, ErrorCode.GENERATION_NOT_CONFIGURED

    def __init__(self) -> None:
        super().__init__(
            "Quiz generation is not configured: set APRANOVA_GEMINI_API_KEY (a Google AI Studio "
            "key) for lms-api and restart it. Quizzes can still be written by hand or imported."
        )


class GenerationUnavailable(DomainError):
    """Gemini failed to write the quiz (the run is logged as failed)."""

    status, code = 502, ErrorCode.UPSTREAM_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(f"Gemini could not write the quiz: {reason}")


class GenerationQuotaExceeded(DomainError):
    """The caller asked for more generations in the last hour than allowed."""

    status, code = 429, ErrorCode.RATE_LIMITED

    def __init__(self, count: int, limit: int, retry: int) -> None:
        super().__init__(
            f"You have asked for {count} quiz generations in the last hour (the limit is "
            f"{limit}); try again in {retry} s.",
            details={"limit": limit, "retry_after_seconds": retry},
            headers={"Retry-After": str(retry)},
        )


async def generate_draft(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    caller: Principal,
    body: GenerateQuizIn,
) -> GeneratedQuizOut:
    """Have Gemini write a draft quiz: 503 when no key is configured, 429 past the quota, 502
    when Gemini fails. `session` (the request's) is committed before Gemini is called; the
    outcome is saved in sessions of its own."""
    if not settings.gemini_api_key.get_secret_value():
        raise GenerationOff()
    await service.check_link(session, body.track, body.project_id)
    generation_id = await start_run(session, caller, body, settings)
    await session.commit()  # hold no transaction (nor SQLite's write lock) while Gemini works
    generator = QuizGenerator.from_settings(settings)
    try:
        generated = await generator.generate(body)
    except (GenerationFailed, GenerationNotConfigured) as exc:
        reason = getattr(exc, "reason", str(exc))
        async with sessions() as failed, failed.begin():
            await finish_run(
                failed, generation_id, "failed", error=reason, calls=getattr(exc, "attempts", 0)
            )
        raise GenerationUnavailable(reason) from exc
    finally:
        await generator.aclose()
    async with sessions() as saving, saving.begin():
        quiz_id = await service.create_quiz(
            saving,
            QuizIn(
                title=body.title,
                track=body.track,
                project_id=body.project_id,
                questions=generated.questions,
            ),
            author=caller.name,
            generation_type=body.generation_type,
            prompt=body.prompt,
            model=generated.model,
            sources=generated.sources,
            via="gemini",
        )
        await finish_run(
            saving,
            generation_id,
            "succeeded",
            quiz_id=quiz_id,
            calls=generated.attempts,
            model=generated.model,
        )
        detail = await fresh_detail(saving, quiz_id)
    return GeneratedQuizOut(
        **detail.model_dump(),
        generation=GenerationInfo(model=generated.model, calls=generated.attempts),
    )


async def start_run(
    session: AsyncSession, caller: Principal, body: GenerateQuizIn, settings: Settings
) -> int:
    """Count the caller's generations in the last hour (429 past the limit), then log this one
    (committed before Gemini is called, so concurrent requests count it)."""
    # Lock the trainer's profile row (PostgreSQL; SQLite serializes writers anyway) so that
    # concurrent requests of one trainer count each other.
    await session.execute(select(Person.id).where(Person.username == caller.name).with_for_update())
    since = utcnow() - timedelta(hours=1)
    recent = list(
        await session.scalars(
            select(QuizGeneration.created_at)
            .where(QuizGeneration.requested_by == caller.name, QuizGeneration.created_at >= since)
            .order_by(QuizGeneration.created_at)
        )
    )
    limit = settings.quiz_generations_per_hour
    if len(recent) >= limit:
        retry = 3600
        if recent:
            retry = max(
                1, int((as_utc(recent[0]) + timedelta(hours=1) - utcnow()).total_seconds()) + 1
            )
        raise GenerationQuotaExceeded(len(recent), limit, retry)
    generation = QuizGeneration(
        requested_by=caller.name,
        generation_type=body.generation_type.value,
        status="running",
        model=settings.gemini_model,
    )
    session.add(generation)
    await session.flush()
    return generation.id


async def finish_run(session: AsyncSession, generation_id: int, status: str, **values: Any) -> None:
    """Record how the run ended (`succeeded` or `failed`) and its details on its log row."""
    generation = await session.get(QuizGeneration, generation_id)
    assert generation is not None
    generation.status, generation.finished_at = status, utcnow()
    for name, value in values.items():
        setattr(generation, name, value)
