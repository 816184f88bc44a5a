"""``caseledger region``: an administrator on the server pins another region's root key and installs
the trust lists and status lists it publishes, as ``/v1/regions`` does over HTTP."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.config import Settings
from api.context import open_ledger
from ledger.actors import Actor, Channel, Role
from ledger.commands import Command
from ledger.errors import LedgerError
from ledger.regions import Region

ADMIN = Actor("platform-admin", Role.ADMIN)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``region`` commands to the ``caseledger`` parser."""
    region = sub.add_parser("region", help="other regions whose e-licenses are verified here")
    tools = region.add_subparsers(dest="region_tool", required=True)
    tools.add_parser("list", help="the regions registered here, as JSON")
    add = tools.add_parser("add", help="pin a region's root public key (DER), obtained out of band")
    add.add_argument("name", help="lower-case name, e.g. hunan")
    add.add_argument("--title", required=True, help="its name in Chinese, e.g. 湖南省")
    add.add_argument("--root-key", type=Path, required=True, help="the region's root key, DER SPKI")
    for tool, what in (("trust-list", "trust list"), ("status-list", "status list")):
        install = tools.add_parser(tool, help=f"install the region's signed {what} (COSE)")
        install.add_argument("name")
        install.add_argument("file", type=Path)
    withdraw = tools.add_parser("withdraw", help="stop verifying the region's credentials")
    withdraw.add_argument("name")
    withdraw.add_argument("--reason", required=True)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``region`` command; print the region(s) as JSON; 2 on a refusal."""
    context = open_ledger(settings)
    try:
        regions = context.ledger.regions
        cmd = Command(at=datetime.now(UTC), actor=ADMIN, channel=Channel.SYSTEM)
        tool = args.region_tool
        try:
            if tool == "list":
                print(
                    json.dumps([_shown(r) for r in regions.regions()], ensure_ascii=False, indent=2)
                )
                return 0
            if tool == "add":
                key = args.root_key.read_bytes()
                changed = regions.register(
                    cmd, name=args.name, title=args.title, root_public_key=key
                )
            elif tool == "trust-list":
                changed = regions.install_trust_list(
                    cmd, name=args.name, data=args.file.read_bytes()
                )
            elif tool == "status-list":
                changed = regions.install_status_list(
                    cmd, name=args.name, data=args.file.read_bytes()
                )
            else:
                changed = regions.withdraw(cmd, name=args.name, reason=args.reason)
        except (LedgerError, OSError) as refused:
            print(f"refused: {refused}", file=sys.stderr)
            return 2
        print(json.dumps(_shown(regions.region(args.name)), ensure_ascii=False, indent=2))
        if not changed:
            print("(already so: nothing recorded)", file=sys.stderr)
        return 0
    finally:
        context.close()


def _shown(region: Region) -> dict[str, Any]:
    return {
        "name": region.name,
        "title": region.title,
        "root_kid": region.root_kid.hex(),
        "active": region.active,
        "trust_list_sequence": region.sequence,
        "status_lists": {
            copy.list_id: copy.issued_at.isoformat() for copy in region.status_lists.values()
        },
        "withdrawal_reason": region.withdrawal_reason,
    }
