"""Slows password guessing on /hub/login: per username and per client address.

After `max_failures` failed logins within `window` seconds, the key (a username, or a client
address) is locked for `lockout` seconds; every further failure after a lock doubles the
lock, up to `max_lockout`. While locked, every login is refused, the right password too, so
a lock cannot be used to test guesses. A success clears the username's record (not the
address's: one good account must not reset an attacker's address). Kept in the hub's memory:
a hub restart forgets it.
"""

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    strikes: int = 0  # locks so far; each doubles the next
    locked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window: float,
        lockout: float,
        max_lockout: float,
        clock=time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def _record(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last_failure > max(self.window, self.max_lockout):
            del self._records[key]  # quiet long enough: start afresh
            return None
        return record

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        now = self.clock()
        record = self._record(key, now)
        return max(0.0, record.locked_until - now) if record else 0.0

    MAX_KEYS = 100_000

    def _forget_quiet(self, now: float) -> None:
        """Bound the memory a flood of made-up usernames could take."""
        quiet = max(self.window, self.max_lockout)
        for key in [k for k, r in self._records.items() if now - r.last_failure > quiet]:
            del self._records[key]

    def failed(self, key: str) -> float:
        """Count a failure; returns the lock it causes (0: none yet)."""
        now = self.clock()
        if len(self._records) >= self.MAX_KEYS:
            self._forget_quiet(now)
        record = self._record(key, now) or self._records.setdefault(key, _Record())
        record.last_failure = now
        while record.failures and now - record.failures[0] > self.window:
            record.failures.popleft()
        record.failures.append(now)
        if len(record.failures) < self.max_failures:
            return 0.0
        lock = min(self.max_lockout, self.lockout * 2**record.strikes)
        record.strikes += 1
        record.locked_until = now + lock
        return lock

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)

    def __len__(self) -> int:
        return len(self._records)


def in_words(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"
