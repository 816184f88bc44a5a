"""Group commit of license-use records: the uses of concurrent callers are saved in one batch, one
transaction, and each caller returns only once its own use is committed (or raises its error).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ledger.errors import LedgerError
from licenses.usage import LicenseUse

Save = Callable[..., object]

_WAITING, _LEADING, _DONE = "waiting", "leading", "done"


class _Ticket:
    """One caller's events and what became of them."""

    __slots__ = ("error", "events", "state", "wake")

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.state = _WAITING
        self.error: BaseException | None = None
        self.wake = threading.Event()


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
        # The events are taken out of the aggregates once, so a batch that fails can be retried
        # caller by caller with the very same events.
        ticket = _Ticket([event for use in uses for event in use.collect_events()])
        if not ticket.events:
            return
        with self._lock:
            self._queue.append(ticket)
            if not self._writing:
                self._writing = True
                ticket.state = _LEADING
        if ticket.state != _LEADING:
            ticket.wake.wait()  # until committed, or until handed the pen
        if ticket.state == _LEADING:
            self._write()
        if ticket.error is not None:
            raise ticket.error

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
                    successor.wake.set()
                else:
                    self._writing = False
            for ticket in batch:
                if ticket.state != _DONE:  # an unexpected error left it unsettled
                    ticket.error = ticket.error or LedgerError("the license use was not recorded")
                    ticket.state = _DONE
                ticket.wake.set()

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
