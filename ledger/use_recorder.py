"""Group commit of license uses: the uses of concurrent callers are saved in one batch, one
transaction, and each caller returns only once its own use is committed (or raises its error).
Callers may be threads (``record``) or coroutines on an event loop (``record_async``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ledger.errors import LedgerError
from licenses.usage import LicenseUse

Save = Callable[..., object]

_WAITING, _LEADING, _DONE = "waiting", "leading", "done"


class _Ticket:
    """One caller's events, what became of them, and how to wake that caller (a coroutine's
    future on its loop, or a thread's callback)."""

    __slots__ = ("error", "events", "future", "loop", "state", "wake")

    def __init__(
        self,
        events: list[Any],
        wake: Callable[[], None],
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.events = events
        self.state = _WAITING
        self.error: BaseException | None = None
        self.wake = wake
        self.loop = loop
        self.future = future


def _settle(future: asyncio.Future[None]) -> None:
    # A ticket may be woken twice (handed the pen, then settled by its own batch).
    if not future.done():
        future.set_result(None)


def _settle_all(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        _settle(future)


class UseRecorder:
    """Saves license uses in batches: while one batch commits, the next one gathers."""

    def __init__(self, save: Save, *, max_batch: int = 256) -> None:
        if max_batch < 1:
            raise LedgerError(f"a batch must hold at least 1 caller's uses, got {max_batch}")
        self._save = save
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._writing = False

    def record(self, *uses: LicenseUse) -> None:
        """Save ``uses`` atomically; return once committed, raise what the save raised."""
        woken = threading.Event()
        ticket = self._enqueue(uses, woken.set)
        if ticket is None:
            return
        if ticket.state != _LEADING:
            woken.wait()  # until committed, or until handed the pen
        if ticket.state == _LEADING:
            self._write()
        if ticket.error is not None:
            raise ticket.error

    async def record_async(self, *uses: LicenseUse) -> None:
        """``record`` for a coroutine: the event loop goes on serving while the batch commits."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, woken)

        ticket = self._enqueue(uses, wake, loop, woken)
        if ticket is None:
            return
        # A cancelled caller must still take the pen when it is handed over, or every caller
        # behind it would wait forever: the wait and the write run shielded.
        await asyncio.shield(self._follow(ticket, woken))

    async def _follow(self, ticket: _Ticket, woken: asyncio.Future[None]) -> None:
        if ticket.state != _LEADING:
            await woken
        if ticket.state == _LEADING:
            # The save does I/O and signs: a worker thread writes, never the event loop.
            await asyncio.to_thread(self._write)
        if ticket.error is not None:
            raise ticket.error

    def _enqueue(
        self,
        uses: Sequence[LicenseUse],
        wake: Callable[[], None],
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> _Ticket | None:
        # The events are taken out of the aggregates once, so a batch that fails can be retried
        # caller by caller with the very same events.
        events = [event for use in uses for event in use.collect_events()]
        if not events:
            return None
        ticket = _Ticket(events, wake, loop, future)
        with self._lock:
            self._queue.append(ticket)
            if not self._writing:
                self._writing = True
                ticket.state = _LEADING
        return ticket

    def _write(self) -> None:
        # Exactly one caller writes at a time, and it writes one batch that holds its own ticket:
        # then it hands the pen to the oldest waiting caller, so no caller writes forever.
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.state = _LEADING
                    successor.wake()
                else:
                    self._writing = False
            # One wake-up per event loop for the whole batch, not one per coroutine: each is a
            # write to the loop's self-pipe and a turn of its selector.
            futures: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for ticket in batch:
                if ticket.state != _DONE:  # an unexpected error left it unsettled
                    ticket.error = ticket.error or LedgerError("the license use was not recorded")
                    ticket.state = _DONE
                if ticket.loop is not None and ticket.future is not None:
                    futures.setdefault(ticket.loop, []).append(ticket.future)
                else:
                    ticket.wake()
            for loop, waiting in futures.items():
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                    loop.call_soon_threadsafe(_settle_all, waiting)

    def _commit(self, batch: Sequence[_Ticket]) -> None:
        try:
            self._save(*(event for ticket in batch for event in ticket.events))
        except Exception as batch_error:
            if len(batch) == 1:
                batch[0].error = batch_error
                batch[0].state = _DONE
                return
            # One caller's bad use must not fail the others: each is saved on its own.
            for ticket in batch:
                try:
                    self._save(*ticket.events)
                except Exception as error:
                    ticket.error = error
                ticket.state = _DONE
            return
        for ticket in batch:
            ticket.state = _DONE
