"""Workspace starts in order: at most N at once, the rest wait in line with their place shown.

At a class start hundreds of students click Start within a minute. Each start costs CPU (a
container or process, a Jupyter server booting), so starting all at once makes every one of
them slow, and JupyterHub's own answer past `concurrent_spawn_limit` is a 429 "try again
later". Instead a spawner waits for its turn here before `start()` (in its pre-spawn hook,
outside JupyterHub's start timeout), first come first served; the hub's spawn page shows the
student their place and an estimate (`TrackAwareMixin.progress`), and admins see the line at
/hub/start-queue.
"""

import asyncio
import math
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ASSUMED_START_SECONDS = 10.0  # the estimate before any start was measured
RECENT_STARTS = 20  # the estimate is the median of the last this many starts


@dataclass
class Entry:
    """One workspace start, waiting or under way."""

    user: str
    server: str
    kind: str
    hold_seconds: float = math.inf  # a start that never reports its end gives its slot back
    queued_at: float = 0.0  # on the queue's clock, as `began`
    began: float | None = None
    turn: asyncio.Future | None = None
    ready: bool = True  # False while the start is still being checked (`hold_place`)

    @property
    def deadline(self) -> float:
        return math.inf if self.began is None else self.began + self.hold_seconds


class StartQueue:
    """First come, first served, `limit` starts at a time (one per hub process)."""

    def __init__(self, limit: int = 8, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.waiting: dict[str, Entry] = {}  # in order of arrival
        self.starting: dict[str, Entry] = {}
        self.durations: deque[float] = deque(maxlen=RECENT_STARTS)

    # --- a start's life ----------------------------------------------------------------
    def hold_place(self, key: str, entry: Entry) -> None:
        """Take this start's place in line at the moment it is asked for, while its checks
        (the LMS's rule) still run: first asked is first started even when a later start's
        checks answer sooner. The line does not move past a held place until
        `wait_for_turn` (checked) or `leave` (refused)."""
        entry.ready = False
        self._join(key, entry)

    async def wait_for_turn(self, key: str, entry: Entry) -> None:
        """Return when this start may go ahead; it holds a slot until `done(key)` or, at the
        latest, `entry.hold_seconds` later. A place taken with `hold_place` (this same entry,
        its kind now checked) is kept."""
        if self.waiting.get(key) is not entry:
            self._join(key, entry)
        entry.ready = True
        entry.turn = asyncio.get_running_loop().create_future()
        self._admit()
        if entry.began is not None:
            return
        try:
            await entry.turn
        except asyncio.CancelledError:
            if self.waiting.pop(key, None) is None:  # its turn had come: give the slot back
                self.done(key, succeeded=False)
            self._admit()
            raise

    def leave(self, key: str) -> None:
        """A start refused or abandoned before its turn: its place goes, the line moves on."""
        if self.waiting.pop(key, None) is not None:
            self._admit()

    def done(self, key: str, *, succeeded: bool) -> None:
        """The start ended (running, failed or cancelled): its slot goes to the next in line.
        Only finished starts count toward the estimate."""
        entry = self.starting.pop(key, None)
        if entry is not None and succeeded:
            self.durations.append(self.clock() - entry.began)
        self._admit()

    def _join(self, key: str, entry: Entry) -> None:
        if key in self.waiting:
            raise RuntimeError(f"{key} is already waiting in the start queue")
        if key in self.starting:  # JupyterHub starts a server again only once its start ended
            self.done(key, succeeded=False)
        self._reclaim_overdue()
        entry.queued_at = self.clock()
        self.waiting[key] = entry

    def _begin(self, key: str, entry: Entry) -> None:
        entry.began = self.clock()
        self.starting[key] = entry

    def _admit(self) -> None:
        """Strictly in order: a place still being checked holds up the ones behind it."""
        while self.waiting and len(self.starting) < self.limit:
            key = next(iter(self.waiting))
            entry = self.waiting[key]
            if not entry.ready:
                return
            del self.waiting[key]
            self._begin(key, entry)
            if entry.turn is not None and not entry.turn.done():
                entry.turn.set_result(None)

    def _reclaim_overdue(self) -> None:
        now = self.clock()
        for key in [k for k, e in self.starting.items() if e.deadline < now]:
            self.done(key, succeeded=False)

    # --- what people see ------------------------------------------------------------------
    def place(self, key: str) -> int | None:
        """1 for the next to start; None when not waiting."""
        for number, waiting in enumerate(self.waiting, start=1):
            if waiting == key:
                return number
        return None

    def typical_start_seconds(self) -> float:
        return statistics.median(self.durations) if self.durations else ASSUMED_START_SECONDS

    def estimated_wait_seconds(self, place: int) -> float:
        """Until this place's start begins: every `limit` starts ahead take one start's time."""
        return math.ceil(place / max(self.limit, 1)) * self.typical_start_seconds()

    def snapshot(self) -> dict:
        """The line as admins see it: starting first, then waiting in order."""
        now = self.clock()

        def row(entry: Entry, place: int | None) -> dict:
            began = entry.began
            return {
                "user": entry.user,
                "server": entry.server,
                "kind": entry.kind,
                "place": place,
                "waiting_seconds": round((now if began is None else began) - entry.queued_at),
                "starting_seconds": None if began is None else round(now - began),
                "estimate_seconds": round(self.estimated_wait_seconds(place)) if place else None,
            }

        return {
            "typical_start_seconds": round(self.typical_start_seconds(), 1),
            "starting": [row(e, None) for e in self.starting.values()],
            "waiting": [row(e, n) for n, e in enumerate(self.waiting.values(), start=1)],
        }


def in_words(seconds: float) -> str:
    """'about 20 seconds', 'about 3 minutes': rounded up, never 'about 0 seconds'."""
    if seconds <= 55:
        return f"about {max(5, math.ceil(seconds / 5) * 5)} seconds"
    minutes = math.ceil(seconds / 60)
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"


def waiting_message(place: int, wait_seconds: float) -> str:
    ahead = "You are next" if place == 1 else f"You are number {place} in line"
    return (
        f"Many workspaces are starting right now. {ahead}; yours starts in "
        f"{in_words(wait_seconds)}. Keep this page open: it starts by itself."
    )


START_QUEUE = StartQueue()
