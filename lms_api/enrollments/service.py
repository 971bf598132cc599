"""Questions about enrollments that several routes ask, and the changes admins make."""

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lms_api.access import may_see_records_of, visible_records
from lms_api.curriculum.models import Track
from lms_api.enrollments.enums import EnrollmentSource, EnrollmentStatus
from lms_api.enrollments.models import Enrollment, EnrollmentEvent
from lms_api.errors import Conflict, NotFound
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.people.service import get_or_create_person
from lms_api.principal import Principal
from lms_api.timestamps import utcnow

# Statuses from which a revoke is meaningful; cancelled and refunded are final for a revoke.
REVOCABLE = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PENDING_PAYMENT)


class EnrollmentNotFound(NotFound):
    """No such enrollment, or one the caller may not see."""

    def __init__(self, enrollment_id: int) -> None:
        super().__init__(f"No enrollment {enrollment_id}.")


class UnknownTrack(NotFound):
    """No track with the code in the body (`details.field` = `track`)."""

    noun = "track"

    def __init__(self, track_code: str) -> None:
        super().__init__(
            f"There is no {self.noun} with code {track_code!r}.",
            details={"field": "track", "value": track_code},
        )
        self.track_code = track_code


class EnrollmentConflict(Conflict):
    """The enrollment is not in a state that allows the change."""


async def enrollments_of(session: AsyncSession, username: str) -> list[Enrollment]:
    rows = await session.scalars(
        select(Enrollment)
        .join(Person)
        .where(Person.username == username)
        .options(selectinload(Enrollment.track))
        .order_by(Enrollment.id)
    )
    return list(rows)


def allowed_workspace_kinds(enrollments: list[Enrollment]) -> list[str]:
    """The single workspace rule: the union of kinds of the tracks a user is active in."""
    kinds: list[str] = []
    for enrollment in enrollments:
        if enrollment.status != EnrollmentStatus.ACTIVE:
            continue
        kinds.extend(k for k in enrollment.track.workspace_kinds if k not in kinds)
    return kinds


def is_offer(track: Track, active_track_ids: set[int]) -> bool:
    """A track the user could buy online: open, priced, with a workspace, and not one they are
    active in (the workspace rule's offers, the hub's enroll page and the portal's catalog)."""
    return (
        track.is_active
        and track.price_cents > 0
        and bool(track.workspace_kinds)
        and track.id not in active_track_ids
    )


async def insert_if_absent(
    session: AsyncSession, model: type, values: dict[str, Any], unique_on: list[str]
) -> bool:
    """`INSERT ... ON CONFLICT DO NOTHING`: True when this call inserted the row.

    Safe under concurrency without a savepoint: on PostgreSQL a concurrent insert of the same
    key waits for the other transaction and then does nothing; SQLite serialises writers.
    Column defaults (e.g. `created_at`) are applied as for an ORM insert.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique_on)
        .returning(*table.primary_key.columns)
    )
    inserted = (await session.execute(statement)).first()
    return inserted is not None


# --- reading -------------------------------------------------------------------------------


def _visible_to(statement: Select[Any], caller: Principal) -> Select[Any]:
    """Admins see every enrollment, trainers their students', everyone else their own."""
    return visible_records(statement, caller, Enrollment.person_id)


def list_enrollments(
    caller: Principal,
    *,
    username: str | None = None,
    track: str | None = None,
    status: EnrollmentStatus | None = None,
) -> Select[tuple[Enrollment]]:
    """The enrollments `caller` may see, filtered, ordered by id (for `paginate`)."""
    statement = (
        select(Enrollment)
        .join(Person, Enrollment.person_id == Person.id)
        .join(Track, Enrollment.track_id == Track.id)
        .options(selectinload(Enrollment.person), selectinload(Enrollment.track))
    )
    statement = _visible_to(statement, caller)
    if username is not None:
        statement = statement.where(Person.username == username)
    if track is not None:
        statement = statement.where(Track.code == track)
    if status is not None:
        statement = statement.where(Enrollment.status == status)
    return statement.order_by(Enrollment.id)


async def load_enrollment(session: AsyncSession, enrollment_id: int) -> Enrollment | None:
    """An enrollment with its person and track, fresh from the database."""
    return await session.scalar(
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .options(selectinload(Enrollment.person), selectinload(Enrollment.track))
        .execution_options(populate_existing=True)
    )


async def visible_enrollment(
    session: AsyncSession, caller: Principal, enrollment_id: int
) -> Enrollment:
    """The enrollment if `caller` may see it; otherwise EnrollmentNotFound (no existence leak)."""
    enrollment = await load_enrollment(session, enrollment_id)
    if enrollment is None:
        raise EnrollmentNotFound(enrollment_id)
    if await may_see_records_of(session, caller, enrollment.person.username):
        return enrollment
    raise EnrollmentNotFound(enrollment_id)


async def history_of(session: AsyncSession, enrollment_id: int) -> list[EnrollmentEvent]:
    rows = await session.scalars(
        select(EnrollmentEvent)
        .where(EnrollmentEvent.enrollment_id == enrollment_id)
        .order_by(EnrollmentEvent.id)
    )
    return list(rows)


# --- changing ------------------------------------------------------------------------------


async def _change_status(
    session: AsyncSession,
    enrollment: Enrollment,
    *,
    to_status: EnrollmentStatus,
    source: str,
    actor: str,
    reason: str,
) -> None:
    """Move `enrollment` from the status we read to `to_status`, and write its history.

    The UPDATE only applies if nobody changed the status since we read it, so two concurrent
    changes cannot both succeed.
    """
    from_status = enrollment.status
    result = await session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment.id, Enrollment.status == from_status)
        .values(status=to_status, source=source, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise EnrollmentConflict("The enrollment changed meanwhile; read it again and retry.")
    session.add(
        EnrollmentEvent(
            enrollment_id=enrollment.id,
            from_status=from_status,
            to_status=to_status,
            source=source,
            actor=actor,
            reason=reason,
        )
    )
    await session.flush()


def _announce(
    session: AsyncSession,
    topic: str,
    enrollment: Enrollment,
    from_status: str | None,
    actor: str,
    reason: str,
) -> None:
    """The outbox event of an enrollment change, in the change's transaction."""
    record_event(
        session,
        topic,
        enrollment_id=enrollment.id,
        username=enrollment.person.username,
        track=enrollment.track.code,
        from_status=from_status,
        actor=actor,
        reason=reason,
    )


async def _activate(
    session: AsyncSession, *, person_id: int, track_id: int, source: str, actor: str, reason: str
) -> tuple[Enrollment, str | None, bool]:
    """Make the person active in the track, creating the enrollment if there is none.

    Returns the enrollment, the status it had (None if new) and whether anything changed
    (False: it was active already). Safe under concurrency: the insert is ON CONFLICT DO
    NOTHING and the status change is conditional.
    """
    created = await insert_if_absent(
        session,
        Enrollment,
        {
            "person_id": person_id,
            "track_id": track_id,
            "status": EnrollmentStatus.ACTIVE.value,
            "source": source,
            "updated_at": utcnow(),
        },
        ["person_id", "track_id"],
    )
    enrollment = await enrollment_in(session, person_id, track_id)
    assert enrollment is not None
    if created:
        session.add(
            EnrollmentEvent(
                enrollment_id=enrollment.id,
                from_status=None,
                to_status=EnrollmentStatus.ACTIVE,
                source=source,
                actor=actor,
                reason=reason,
            )
        )
        await session.flush()
        return enrollment, None, True
    if enrollment.status == EnrollmentStatus.ACTIVE:
        return enrollment, enrollment.status, False
    from_status = enrollment.status
    await _change_status(
        session,
        enrollment,
        to_status=EnrollmentStatus.ACTIVE,
        source=source,
        actor=actor,
        reason=reason,
    )
    return enrollment, from_status, True


async def grant(
    session: AsyncSession, *, actor: str, username: str, track_code: str, reason: str
) -> Enrollment:
    """Make `username` active in a track by grant (creating the profile if needed)."""
    track = await session.scalar(select(Track).where(Track.code == track_code))
    if track is None:
        raise UnknownTrack(track_code)
    person = await get_or_create_person(session, username)
    enrollment, from_status, changed = await _activate(
        session,
        person_id=person.id,
        track_id=track.id,
        source=EnrollmentSource.GRANT,
        actor=actor,
        reason=reason,
    )
    if not changed:
        raise EnrollmentConflict(f"{username} is already active in {track.code}.")
    _announce(session, "enrollment.granted", enrollment, from_status, actor, reason)
    await session.flush()
    fresh = await load_enrollment(session, enrollment.id)
    assert fresh is not None
    return fresh


async def revoke(
    session: AsyncSession, *, actor: str, enrollment_id: int, reason: str
) -> Enrollment:
    """Cancel an active or pending enrollment; its workspaces stop being allowed."""
    enrollment = await load_enrollment(session, enrollment_id)
    if enrollment is None:
        raise EnrollmentNotFound(enrollment_id)
    if enrollment.status not in REVOCABLE:
        raise EnrollmentConflict(f"The enrollment is already {enrollment.status}.")
    from_status = enrollment.status
    await _change_status(
        session,
        enrollment,
        to_status=EnrollmentStatus.CANCELLED,
        source=enrollment.source,
        actor=actor,
        reason=reason,
    )
    _announce(session, "enrollment.revoked", enrollment, from_status, actor, reason)
    await session.flush()
    fresh = await load_enrollment(session, enrollment.id)
    assert fresh is not None
    return fresh


# --- changes that payments make ------------------------------------------------------------


async def enrollment_in(session: AsyncSession, person_id: int, track_id: int) -> Enrollment | None:
    enrollment_id = await session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == person_id, Enrollment.track_id == track_id
        )
    )
    return None if enrollment_id is None else await load_enrollment(session, enrollment_id)


async def activate_for_payment(
    session: AsyncSession, *, person_id: int, track_id: int, actor: str, reason: str
) -> str:
    """A payment succeeded: the enrollment becomes active (source: payment). Idempotent.

    Returns what happened, in words, for the webhook's record.
    """
    enrollment, from_status, changed = await _activate(
        session,
        person_id=person_id,
        track_id=track_id,
        source=EnrollmentSource.PAYMENT,
        actor=actor,
        reason=reason,
    )
    if not changed:
        return f"enrollment {enrollment.id} was already active ({enrollment.source})"
    _announce(session, "enrollment.paid", enrollment, from_status, actor, reason)
    await session.flush()
    return f"enrollment {enrollment.id} activated"


async def revoke_for_refund(
    session: AsyncSession, *, person_id: int, track_id: int, actor: str, reason: str
) -> str:
    """A payment was refunded: an enrollment that the payment made active becomes refunded.

    An enrollment an admin granted stays as it is (a scholarship is not taken back by a
    refund of money paid on top). Returns what happened, in words.
    """
    enrollment = await enrollment_in(session, person_id, track_id)
    if enrollment is None:
        return "no enrollment to revoke"
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return f"enrollment {enrollment.id} was already {enrollment.status}"
    if enrollment.source != EnrollmentSource.PAYMENT:
        return f"enrollment {enrollment.id} was granted, so it stays active"
    await _change_status(
        session,
        enrollment,
        to_status=EnrollmentStatus.REFUNDED,
        source=EnrollmentSource.PAYMENT,
        actor=actor,
        reason=reason,
    )
    _announce(
        session, "enrollment.refunded", enrollment, EnrollmentStatus.ACTIVE.value, actor, reason
    )
    await session.flush()
    return f"enrollment {enrollment.id} revoked"
