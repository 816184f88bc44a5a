"""Which department may act on a case: a pure policy over the item's departments.

One window (一窗受理): the government service centre's front desk or the lead department receive,
notify, accept and dispatch; only the lead department decides, extends, suspends and issues;
each required department gives its own opinion (checked by the Case itself).
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.actors import Actor, Role
from ledger.errors import ActionNotPermitted

SERVICE_CENTRE = "zwfwzx"  # 政务服务中心: the one window that receives and dispatches for all

FRONT_DESK_COMMANDS = frozenset(
    {
        "receive",
        "refuse",
        "notify_correction",
        "accept_with_tolerance",
        "correct",
        "supplement",
        "dispatch",
        "pick_up",
        "record_visit",
        "close",
        "submit",
    }
)
LEAD_COMMANDS = frozenset({"decide", "issue_license", "extend", "suspend", "resume", "transfer"})


def check_department(command: str, actor: Actor, departments: Sequence[str]) -> None:
    """Raise ``ActionNotPermitted`` if an officer's department may not run ``command``."""
    if actor.role is not Role.OFFICER:
        return  # applicants, couriers and the system are bounded by role checks in the Case
    lead = departments[0] if departments else None
    if command in LEAD_COMMANDS:
        allowed = [lead] if lead else []
    elif command in FRONT_DESK_COMMANDS:
        allowed = [SERVICE_CENTRE, *([lead] if lead else [])]
    else:
        allowed = list(departments)
    if actor.department not in allowed:
        raise ActionNotPermitted(
            f"{command} on this case is for departments {allowed}, "
            f"got an officer of {actor.department!r}"
        )
