"""Profiles are created on first use, so the hub stays the only place accounts are made.

Also here: the admin side of profiles (list, update, deactivate) and trainer assignment, whose
cap is kept by one conditional UPDATE so concurrent assignments can never pass it.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.errors import Conflict, InvalidInput, NotFound, TrainerFull, Unavailable
from lms_api.outbox import record_event
from lms_api.people.models import Person, TrainerAssignment
from lms_api.principal import (
    STAFF_ROLES,
    TRAINERS_GROUP,
    HubUnavailable,
    Role,
    role_from_hub,
)
from lms_api.tls import client_tls


async def find_person(session: AsyncSession, username: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.username == username))


async def get_or_create_person(session: AsyncSession, username: str) -> Person:
    person = await find_person(session, username)
    if person is not None:
        return person
    # INSERT .. ON CONFLICT DO NOTHING: a concurrent first call may win the insert, and this
    # needs no SAVEPOINT (on SQLite, pysqlite would let a first-statement SAVEPOINT's RELEASE
    # commit at once, so a failing request would leave the profile behind).
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}.get(dialect)
    if insert is None:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {dialect!r}")
    await session.execute(
        insert(Person).values(username=username).on_conflict_do_nothing(index_elements=["username"])
    )
    person = await find_person(session, username)
    assert person is not None
    return person


# --- the hub, asked with this service's own token ------------------------------------------
class HubDirectory:
    """Read-only questions to the hub (group members, a user's admin flag and groups)."""

    def __init__(
        self,
        hub_api_url: str,
        service_token: str,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.hub_api_url = hub_api_url.rstrip("/")
        self.service_token = service_token
        self.timeout = timeout
        self.client = client  # the app's pooled client to the hub; else one per question

    async def _get(self, path: str) -> dict[str, Any] | None:
        """The JSON at `path`, or None when the hub says 404."""
        url = f"{self.hub_api_url}{path}"
        headers = {"Authorization": f"token {self.service_token}"}
        try:
            if self.client is not None:
                response = await self.client.get(url, headers=headers, timeout=self.timeout)
            else:
                async with httpx.AsyncClient(timeout=self.timeout, verify=client_tls()) as client:
                    response = await client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise HubUnavailable(str(exc)) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise HubUnavailable(f"hub answered {response.status_code} to GET {path}")
        return response.json()

    async def trainer_usernames(self) -> list[str]:
        """Members of the hub group `trainers`, sorted."""
        group = await self._get(f"/groups/{TRAINERS_GROUP}")
        return sorted((group or {}).get("users") or [])

    async def role_of(self, username: str) -> Role | None:
        """The role the hub gives `username`, or None when the hub has no such user."""
        user = await self._get(f"/users/{quote(username, safe='')}")
        if user is None:
            return None
        return role_from_hub(bool(user.get("admin")), tuple(user.get("groups") or ()))


class HubUnreachable(Unavailable):
    """JupyterHub could not be asked (about users or groups) right now."""

    def __init__(self, exc: HubUnavailable) -> None:
        super().__init__(f"Cannot ask JupyterHub right now: {exc}")


async def trainer_usernames(directory: HubDirectory) -> list[str]:
    """The members of the hub group `trainers` (503 when the hub cannot be asked)."""
    try:
        return await directory.trainer_usernames()
    except HubUnavailable as exc:
        raise HubUnreachable(exc) from exc


# --- profiles ------------------------------------------------------------------------------
async def trainer_username_of(session: AsyncSession, person_id: int) -> str | None:
    return await session.scalar(
        select(Person.username)
        .join(TrainerAssignment, TrainerAssignment.trainer_id == Person.id)
        .where(TrainerAssignment.student_id == person_id)
    )


async def trainer_usernames_of(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    """student person id -> trainer username, for the students that have a trainer."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(TrainerAssignment.student_id, Person.username)
        .join(Person, TrainerAssignment.trainer_id == Person.id)
        .where(TrainerAssignment.student_id.in_(person_ids))
    )
    return {student_id: username for student_id, username in rows.all()}


def people_statement(q: str | None = None, active: bool | None = None) -> Select[tuple[Person]]:
    """Profiles, optionally filtered (`q`: username or name contains, any case), by username."""
    statement = select(Person)
    if q:
        statement = statement.where(
            or_(
                Person.username.icontains(q, autoescape=True),
                Person.name.icontains(q, autoescape=True),
            )
        )
    if active is not None:
        statement = statement.where(Person.is_active.is_(active))
    return statement.order_by(Person.username, Person.id)


async def person_or_404(session: AsyncSession, username: str) -> Person:
    person = await find_person(session, username)
    if person is None:
        raise NotFound(f"No user named {username!r} has a profile.")
    return person


async def update_person(
    session: AsyncSession, person: Person, changes: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Apply `changes` (name, email, is_active); record what really changed. Returns that."""
    if changes.get("is_active") is False and person.username == actor and person.is_active:
        raise Conflict("You cannot deactivate your own account; ask another admin.")
    changed = {k: v for k, v in changes.items() if getattr(person, k) != v}
    if not changed:
        return {}
    for key, value in changed.items():
        setattr(person, key, value)
    await session.flush()
    record_event(session, "person.updated", username=person.username, changes=changed, by=actor)
    if changed.get("is_active") is False:
        record_event(session, "person.deactivated", username=person.username, by=actor)
    return changed


async def deactivate_person(session: AsyncSession, person: Person, actor: str) -> bool:
    """is_active = false; False when it already was (idempotent)."""
    if not person.is_active:
        return False
    if person.username == actor:
        raise Conflict("You cannot deactivate your own account; ask another admin.")
    person.is_active = False
    await session.flush()
    record_event(session, "person.deactivated", username=person.username, by=actor)
    return True


CLOSED_MARK = "~closed-"  # '~' is outside the hub's username alphabet: no login can match


async def close_person(session: AsyncSession, person: Person, actor: str) -> str:
    """The hub deleted this user: deactivate the profile and free its username, so a hub
    user made again under the same name starts a fresh profile instead of inheriting these
    records. The old records stay, under `NAME~closed-ID`. Returns that name."""
    old = person.username
    person.username = f"{old[:200]}{CLOSED_MARK}{person.id}"
    person.is_active = False
    await session.flush()
    record_event(session, "person.closed", username=old, closed_as=person.username, by=actor)
    return person.username


# --- trainers and their students -----------------------------------------------------------
async def people_by_username(session: AsyncSession, usernames: list[str]) -> dict[str, Person]:
    if not usernames:
        return {}
    rows = await session.scalars(select(Person).where(Person.username.in_(usernames)))
    return {p.username: p for p in rows}


async def check_assignable(hub: HubDirectory, student: str, trainer: str) -> None:
    """The trainer must be in the hub group `trainers`; the student a hub user, not staff."""
    try:
        trainers = await hub.trainer_usernames()
        student_role = await hub.role_of(student)
    except HubUnavailable as exc:
        raise HubUnreachable(exc) from exc
    if trainer not in trainers:
        raise InvalidInput(
            f"{trainer!r} is not a trainer: only members of the hub group "
            f"{TRAINERS_GROUP!r} can be assigned students.",
            details=[{"field": "body.trainer", "message": "not in the hub group 'trainers'"}],
        )
    if student_role is None:
        raise NotFound(f"The hub has no user named {student!r}.")
    if student_role in STAFF_ROLES:
        raise InvalidInput(
            f"{student!r} is staff (role {student_role.value}), not a student: "
            "only students get a trainer."
        )


@dataclass
class AssignmentResult:
    student: str
    trainer: str | None
    previous_trainer: str | None
    changed: bool
    trainer_assigned_students: int | None


async def _lock_student(session: AsyncSession, student: Person) -> TrainerAssignment | None:
    """Serialize changes to one student's trainer (row lock on PostgreSQL), then read it."""
    await session.execute(select(Person.id).where(Person.id == student.id).with_for_update())
    return await session.scalar(
        select(TrainerAssignment).where(TrainerAssignment.student_id == student.id)
    )


async def _count_of(session: AsyncSession, person_id: int) -> int:
    return int(
        await session.scalar(select(Person.assigned_students).where(Person.id == person_id)) or 0
    )


async def _increment(session: AsyncSession, trainer: Person, cap: int) -> None:
    """+1 only while under the cap, in one statement: concurrent requests cannot both pass."""
    result = await session.execute(
        update(Person)
        .where(Person.id == trainer.id, Person.assigned_students < cap)
        .values(assigned_students=Person.assigned_students + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        count = await _count_of(session, trainer.id)
        raise TrainerFull(
            f"trainer {trainer.username} already has {count} students (cap {cap})",
            details={"trainer": trainer.username, "assigned_students": count, "cap": cap},
        )


async def _decrement(session: AsyncSession, trainer_id: int) -> None:
    await session.execute(
        update(Person)
        .where(and_(Person.id == trainer_id, Person.assigned_students > 0))
        .values(assigned_students=Person.assigned_students - 1)
        .execution_options(synchronize_session=False)
    )


async def assign_trainer(
    session: AsyncSession, student_name: str, trainer_name: str, *, cap: int, actor: str
) -> AssignmentResult:
    """Give `student_name` the trainer `trainer_name` (moving them from any other trainer).

    Hub checks come first (`check_assignable`); everything here is in the request's
    transaction, so a refusal (409) leaves no profile, count or assignment behind.
    """
    student = await get_or_create_person(session, student_name)
    trainer = await get_or_create_person(session, trainer_name)
    for person, what in ((student, "student"), (trainer, "trainer")):
        if not person.is_active:
            raise Conflict(f"The {what} {person.username!r} is deactivated.")
    current = await _lock_student(session, student)
    previous_name: str | None = None
    if current is not None:
        if current.trainer_id == trainer.id:
            return AssignmentResult(
                student_name,
                trainer_name,
                trainer_name,
                False,
                await _count_of(session, trainer.id),
            )
        previous_name = await session.scalar(
            select(Person.username).where(Person.id == current.trainer_id)
        )
    # Touch trainer rows in id order, so two crossing moves cannot deadlock.
    steps = [(trainer.id, +1)] + ([(current.trainer_id, -1)] if current is not None else [])
    for trainer_id, delta in sorted(steps):
        if delta > 0:
            await _increment(session, trainer, cap)
        else:
            await _decrement(session, trainer_id)
    if current is not None:
        current.trainer_id = trainer.id
        current.assigned_by = actor
    else:
        session.add(
            TrainerAssignment(trainer_id=trainer.id, student_id=student.id, assigned_by=actor)
        )
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request assigned the same student first
        raise Conflict(f"{student_name!r} was assigned concurrently; try again.") from exc
    record_event(
        session,
        "person.trainer_assigned",
        student=student_name,
        trainer=trainer_name,
        previous_trainer=previous_name,
        by=actor,
    )
    return AssignmentResult(
        student_name, trainer_name, previous_name, True, await _count_of(session, trainer.id)
    )


async def unassign_trainer(
    session: AsyncSession, student_name: str, *, actor: str
) -> AssignmentResult:
    """Remove the student's trainer (their count -1); no change when there is none."""
    student = await person_or_404(session, student_name)
    current = await _lock_student(session, student)
    if current is None:
        return AssignmentResult(student_name, None, None, False, None)
    trainer_id = current.trainer_id
    previous_name = await session.scalar(select(Person.username).where(Person.id == trainer_id))
    await _decrement(session, trainer_id)
    await session.delete(current)
    await session.flush()
    record_event(
        session, "person.trainer_unassigned", student=student_name, trainer=previous_name, by=actor
    )
    return AssignmentResult(
        student_name, None, previous_name, True, await _count_of(session, trainer_id)
    )
