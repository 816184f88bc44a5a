"""Printing a case timeline for the terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
from uuid import UUID

from ledger.store import SignedApplication
from ledger.timeline import timeline

CHINA = timezone(timedelta(hours=8))


def print_timeline(app: SignedApplication, case_id: UUID, *, out: Callable[[str], None]) -> None:
    """Print each event with its actor, signing key and verification tick."""
    out(f"timeline of case {case_id}")
    out(f"{'seq':>3}  {'time (UTC+8)':16}  {'event':28}  {'actor':34}  {'signed by':28}  check")
    for e in timeline(app, case_id):
        when = e.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if e.at else "?"
        actor = f"{e.actor.get('principal')} ({e.actor.get('department') or e.actor.get('role')})"
        tick = "✓ verified" if e.verified else f"✗ {e.problem}"
        out(f"{e.seq:>3}  {when:16}  {e.type:28}  {actor:34}  {e.signer:28}  {tick}")
