"""Group commit of license uses: concurrent callers share one save, each returns only after its
own use is committed, and one caller's failure is that caller's alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.errors import LedgerError
from ledger.use_recorder import UseRecorder
from licenses.usage import LicenseUse

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def use(department: str = "zrzyghj") -> LicenseUse:
    return LicenseUse(
        license_id="L-1",
        holder_ref="h",
        department=department,
        purpose="规划核实",
        kind="verify",
        result="valid",
        fields=[],
        at=AT,
        actor={"principal": "verifier-liu", "role": "verifier", "department": department},
        channel="system",
    )


class FakeStore:
    """Records each save as a batch of events; can hold the first save until released."""

    def __init__(self, refuse: Callable[[Any], bool] = lambda event: False) -> None:
        self.batches: list[list[Any]] = []
        self.refuse = refuse
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.timed_out = False

    def save(self, *events: Any) -> None:
        self.entered.set()
        if not self.release.wait(timeout=10):
            self.timed_out = True  # nobody released it: the releasing side was blocked
        if any(self.refuse(event) for event in events):
            raise LedgerError(f"refused a batch of {len(events)}")
        self.batches.append(list(events))


def record_in_threads(recorder: UseRecorder, uses: list[LicenseUse]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * len(uses)

    def run(i: int) -> None:
        try:
            recorder.record(uses[i])
        except BaseException as error:  # the test inspects whatever the caller got
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(uses))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


def test_a_lone_use_is_saved_at_once() -> None:
    store = FakeStore()
    one = use()
    UseRecorder(store.save).record(one)
    assert [[e.originator_id for e in batch] for batch in store.batches] == [[one.id]]


def test_uses_arriving_while_a_batch_commits_are_saved_together_in_the_next() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save)
    store.release.clear()
    first = threading.Thread(target=recorder.record, args=(use(),))
    first.start()
    assert store.entered.wait(timeout=10)
    waiting = [use() for _ in range(5)]
    threads = [threading.Thread(target=recorder.record, args=(u,)) for u in waiting]
    for thread in threads:
        thread.start()
    while len(recorder._queue) < 5:  # all five wait behind the committing batch
        threading.Event().wait(0.001)
    store.release.set()
    for thread in [first, *threads]:
        thread.join(timeout=10)
    assert [len(batch) for batch in store.batches] == [1, 5]
    assert {e.originator_id for e in store.batches[1]} == {u.id for u in waiting}


def test_a_caller_returns_only_once_its_use_is_committed() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save)
    store.release.clear()
    done = threading.Event()

    def call() -> None:
        recorder.record(use())
        done.set()

    caller = threading.Thread(target=call)
    caller.start()
    assert store.entered.wait(timeout=10)
    assert not done.wait(timeout=0.05)
    store.release.set()
    assert done.wait(timeout=10)
    caller.join(timeout=10)
    assert len(store.batches) == 1


def test_one_callers_bad_use_fails_that_caller_only() -> None:
    store = FakeStore(refuse=lambda event: event.department == "nobody")
    recorder = UseRecorder(store.save)
    store.release.clear()
    blocker = threading.Thread(target=recorder.record, args=(use(),))
    blocker.start()
    assert store.entered.wait(timeout=10)
    uses = [use(), use("nobody"), use()]
    results: list[list[BaseException | None]] = []
    gathering = threading.Thread(target=lambda: results.append(record_in_threads(recorder, uses)))
    gathering.start()
    while len(recorder._queue) < 3:
        threading.Event().wait(0.001)
    store.release.set()
    gathering.join(timeout=10)
    blocker.join(timeout=10)
    [outcomes] = results
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], LedgerError)
    assert str(outcomes[1]) == "refused a batch of 1"  # saved on its own after the batch failed
    saved = {e.originator_id for batch in store.batches for e in batch}
    assert saved == {uses[0].id, uses[2].id} | {e.originator_id for e in store.batches[0]}


def test_a_failed_save_reaches_its_caller_and_the_recorder_goes_on() -> None:
    store = FakeStore(refuse=lambda event: event.department == "nobody")
    recorder = UseRecorder(store.save)
    with pytest.raises(LedgerError, match="refused a batch of 1"):
        recorder.record(use("nobody"))
    recorder.record(use())
    assert len(store.batches) == 1


def test_many_concurrent_callers_are_all_recorded_exactly_once() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save, max_batch=4)
    uses = [use() for _ in range(40)]
    assert record_in_threads(recorder, uses) == [None] * 40
    saved = [e.originator_id for batch in store.batches for e in batch]
    assert sorted(saved) == sorted(u.id for u in uses)
    assert all(len(batch) <= 4 for batch in store.batches)


def test_a_recorder_needs_room_for_one_caller_per_batch() -> None:
    with pytest.raises(LedgerError, match="at least 1 caller's uses, got 0"):
        UseRecorder(FakeStore().save, max_batch=0)


# --- coroutines on an event loop -----------------------------------------------------------------


def test_a_coroutine_returns_once_its_use_is_committed() -> None:
    store = FakeStore()
    one = use()
    asyncio.run(UseRecorder(store.save).record_async(one))
    assert [[e.originator_id for e in batch] for batch in store.batches] == [[one.id]]


def test_coroutines_waiting_behind_a_commit_are_saved_together_without_blocking_the_loop() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save)
    store.release.clear()
    uses = [use() for _ in range(6)]

    async def scenario() -> None:
        first = asyncio.create_task(recorder.record_async(uses[0]))
        while not store.entered.is_set():  # the first batch is committing in a worker thread
            await asyncio.sleep(0.001)
        rest = [asyncio.create_task(recorder.record_async(u)) for u in uses[1:]]
        while len(recorder._queue) < 5:  # the loop keeps running while they wait
            await asyncio.sleep(0.001)
        store.release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(scenario())
    assert not store.timed_out
    assert [len(batch) for batch in store.batches] == [1, 5]
    assert {e.originator_id for e in store.batches[1]} == {u.id for u in uses[1:]}


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts the wake-ups other threads schedule on it."""

    woken = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        self.woken += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_a_batch_of_coroutines_is_woken_with_one_call_to_their_loop() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save)
    store.release.clear()
    uses = [use() for _ in range(9)]
    loop = CountingLoop()

    async def scenario() -> int:
        first = asyncio.create_task(recorder.record_async(uses[0]))
        while not store.entered.is_set():
            await asyncio.sleep(0.001)
        rest = [asyncio.create_task(recorder.record_async(u)) for u in uses[1:]]
        while len(recorder._queue) < 8:
            await asyncio.sleep(0.001)
        before = loop.woken
        store.release.set()
        await asyncio.gather(first, *rest)
        return loop.woken - before

    try:
        woken = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert [len(batch) for batch in store.batches] == [1, 8]
    # The first batch: its one caller, and the pen handed to the next; the second: all eight
    # at once. The worker-thread hand-offs of the two writes add theirs.
    assert woken <= 2 + 1 + 2, woken  # one per coroutine would be 8 for the second batch alone


def test_a_coroutines_failed_save_is_raised_to_it_alone() -> None:
    store = FakeStore(refuse=lambda event: event.department == "nobody")
    recorder = UseRecorder(store.save)

    async def scenario() -> list[BaseException | None]:
        outcomes = await asyncio.gather(
            recorder.record_async(use()),
            recorder.record_async(use("nobody")),
            recorder.record_async(use()),
            return_exceptions=True,
        )
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    outcomes = asyncio.run(scenario())
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], LedgerError)
    assert str(outcomes[1]) == "refused a batch of 1"
    assert sum(len(batch) for batch in store.batches) == 2


def test_threads_and_coroutines_share_the_batches_and_each_use_is_saved_once() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save, max_batch=3)
    threaded = [use() for _ in range(10)]
    awaited = [use() for _ in range(10)]

    async def coroutines() -> None:
        await asyncio.gather(*(recorder.record_async(u) for u in awaited))

    loop_thread = threading.Thread(target=asyncio.run, args=(coroutines(),))
    loop_thread.start()
    assert record_in_threads(recorder, threaded) == [None] * 10
    loop_thread.join(timeout=10)
    saved = [e.originator_id for batch in store.batches for e in batch]
    assert sorted(saved) == sorted(u.id for u in threaded + awaited)
    assert all(len(batch) <= 3 for batch in store.batches)


def test_a_cancelled_coroutine_still_passes_the_pen_to_those_behind_it() -> None:
    store = FakeStore()
    recorder = UseRecorder(store.save)
    store.release.clear()
    cancelled, behind = use(), use()

    async def scenario() -> None:
        first = asyncio.create_task(recorder.record_async(use()))
        while not store.entered.is_set():
            await asyncio.sleep(0.001)
        doomed = asyncio.create_task(recorder.record_async(cancelled))
        after = asyncio.create_task(recorder.record_async(behind))
        while len(recorder._queue) < 2:
            await asyncio.sleep(0.001)
        doomed.cancel()
        store.release.set()
        await asyncio.wait_for(asyncio.gather(first, after), timeout=10)
        with pytest.raises(asyncio.CancelledError):
            await doomed

    asyncio.run(scenario())
    saved = {e.originator_id for batch in store.batches for e in batch}
    assert {cancelled.id, behind.id} <= saved  # the cancelled caller's use was still committed
