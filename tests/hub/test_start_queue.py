"""The workspace start line (hub.start_queue): order, places, estimates, and slots given back
whatever happens to a start."""

import asyncio

import pytest

from hub.start_queue import Entry, StartQueue, in_words, waiting_message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(user: str, hold_seconds: float = 300) -> Entry:
    return Entry(user, "", "jupyterlab", hold_seconds=hold_seconds)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_starts_beyond_the_limit_wait_and_go_in_order():
    queue = StartQueue(limit=2)
    began: list[str] = []

    async def start(user: str) -> None:
        await queue.wait_for_turn(user, entry(user))
        began.append(user)

    tasks = [asyncio.create_task(start(u)) for u in ("amy", "ben", "cat", "dan", "eve")]
    await settle()
    assert began == ["amy", "ben"]
    assert [queue.place(u) for u in ("amy", "cat", "dan", "eve")] == [None, 1, 2, 3]
    queue.done("ben", succeeded=True)
    await settle()
    assert began == ["amy", "ben", "cat"] and queue.place("eve") == 2
    queue.done("amy", succeeded=True)
    queue.done("cat", succeeded=False)
    await settle()
    assert began == ["amy", "ben", "cat", "dan", "eve"]
    assert not queue.waiting and set(queue.starting) == {"dan", "eve"}
    await asyncio.gather(*tasks)


async def test_a_newcomer_does_not_overtake_the_line():
    queue = StartQueue(limit=1)
    await queue.wait_for_turn("amy", entry("amy"))
    waiting = asyncio.create_task(queue.wait_for_turn("ben", entry("ben")))
    await settle()
    queue.done("amy", succeeded=True)  # ben's turn, given before anyone else may ask
    late = asyncio.create_task(queue.wait_for_turn("cat", entry("cat")))
    await settle()
    assert waiting.done() and not late.done() and queue.place("cat") == 1
    queue.done("ben", succeeded=True)
    await asyncio.wait_for(late, 1)


async def test_a_place_held_while_checked_keeps_its_order_and_a_refused_one_frees_it():
    queue = StartQueue(limit=1)
    amy, dan = entry("amy"), entry("dan")
    queue.hold_place("amy", amy)  # asked first, still being checked
    ben = asyncio.create_task(queue.wait_for_turn("ben", entry("ben")))  # checked sooner
    await settle()
    assert not ben.done() and [queue.place(u) for u in ("amy", "ben")] == [1, 2]
    await queue.wait_for_turn("amy", amy)  # checked: her turn at once
    assert list(queue.starting) == ["amy"] and queue.place("ben") == 1
    queue.hold_place("cat", entry("cat"))
    queue.done("amy", succeeded=True)
    await settle()
    assert ben.done() and list(queue.starting) == ["ben"]
    queue.hold_place("dan", dan)
    queue.leave("cat")  # refused: dan, behind, is next
    queue.done("ben", succeeded=True)
    assert queue.place("dan") == 1  # held, not yet checked: the slot waits for him
    await asyncio.wait_for(queue.wait_for_turn("dan", dan), 1)
    assert list(queue.starting) == ["dan"]


async def test_a_start_cancelled_in_line_leaves_it_and_one_cancelled_after_its_turn_frees_it():
    queue = StartQueue(limit=1)
    await queue.wait_for_turn("amy", entry("amy"))
    ben = asyncio.create_task(queue.wait_for_turn("ben", entry("ben")))
    cat = asyncio.create_task(queue.wait_for_turn("cat", entry("cat")))
    await settle()
    ben.cancel()
    await settle()
    assert queue.place("ben") is None and queue.place("cat") == 1
    # cat's turn comes, but cat is cancelled before it runs again: the slot is not lost.
    queue.done("amy", succeeded=True)
    cat.cancel()
    await settle()
    assert not queue.starting and not queue.waiting
    await queue.wait_for_turn("dan", entry("dan"))  # at once


async def test_a_start_that_never_reports_its_end_gives_its_slot_back_at_its_deadline():
    clock = Clock()
    queue = StartQueue(limit=1, clock=clock)
    await queue.wait_for_turn("amy", entry("amy", hold_seconds=200))
    clock.now += 201
    await asyncio.wait_for(queue.wait_for_turn("ben", entry("ben")), 1)
    assert list(queue.starting) == ["ben"]


async def test_the_same_server_waits_once_and_a_new_start_replaces_an_unreported_one():
    queue = StartQueue(limit=1)
    await queue.wait_for_turn("amy/", entry("amy"))
    ben = asyncio.create_task(queue.wait_for_turn("ben/", entry("ben")))
    await settle()
    with pytest.raises(RuntimeError, match="already waiting"):
        await queue.wait_for_turn("ben/", entry("ben"))
    # amy's first start ended unreported (JupyterHub starts her again only after it ended):
    # its slot is freed, ben goes first, and her new start queues behind him.
    again = asyncio.create_task(queue.wait_for_turn("amy/", entry("amy")))
    await settle()
    assert ben.done() and list(queue.starting) == ["ben/"] and queue.place("amy/") == 1
    queue.done("ben/", succeeded=True)
    await asyncio.wait_for(again, 1)


async def test_the_estimate_follows_the_measured_starts():
    clock = Clock()
    queue = StartQueue(limit=2, clock=clock)
    assert queue.estimated_wait_seconds(1) == 10  # nothing measured yet: assumed
    for user, seconds in (("amy", 4), ("ben", 6), ("cat", 30)):
        await queue.wait_for_turn(user, entry(user))
        clock.now += seconds
        queue.done(user, succeeded=True)
    await queue.wait_for_turn("dan", entry("dan"))
    clock.now += 500
    queue.done("dan", succeeded=False)  # a failed start does not count
    assert queue.typical_start_seconds() == 6  # the median: one slow start moves it little
    # two at a time: places 1-2 start after one start's time, 3-4 after two
    assert [queue.estimated_wait_seconds(p) for p in (1, 2, 3, 5)] == [6, 6, 12, 18]


async def test_admins_see_who_starts_and_who_waits_in_order():
    queue = StartQueue(limit=1)
    await queue.wait_for_turn("amy/", Entry("amy", "", "jupyterlab"))
    waiting = [
        asyncio.create_task(queue.wait_for_turn(f"{u}/{s}", Entry(u, s, "superset")))
        for u, s in (("ben", "superset"), ("cat", ""))
    ]
    await settle()
    line = queue.snapshot()
    assert [r["user"] for r in line["starting"]] == ["amy"]
    assert [(r["place"], r["user"], r["server"]) for r in line["waiting"]] == [
        (1, "ben", "superset"),
        (2, "cat", ""),
    ]
    assert [r["estimate_seconds"] for r in line["waiting"]] == [10, 20]
    for task in waiting:
        task.cancel()


def test_the_wait_in_words():
    assert [in_words(s) for s in (0, 12, 55, 59, 60, 61, 150)] == [
        "about 5 seconds",
        "about 15 seconds",
        "about 55 seconds",
        "about a minute",
        "about a minute",
        "about 2 minutes",
        "about 3 minutes",
    ]
    assert waiting_message(1, 8).startswith("Many workspaces are starting right now. You are next")
    assert "You are number 4 in line; yours starts in about 20 seconds" in waiting_message(4, 18)
