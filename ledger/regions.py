"""Other regions whose e-licenses this ledger's departments verify (跨区域互认): each region's root
public key, pinned by an administrator, and the trust lists and status lists it publishes,
installed in order and never rolled back. One directory aggregate holds them all.
"""

# The region service checks every document's signature before it calls a command here; the
# aggregate holds the rules about order: a newer trust list only, a newer status list only, nothing
# for a withdrawn region, and one root key per region for good. A command that would change
# nothing (the same document again) triggers no event, so a retried request writes once.

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import (
    ActionNotPermitted,
    InvalidCommand,
    RegionConflict,
    RegionDocumentInvalid,
    UnknownRegion,
)

_NAME = re.compile(r"[a-z][a-z0-9-]{1,31}")
_DIRECTORY = uuid5(NAMESPACE_URL, "urn:caseledger:regions")
MAX_DOCUMENT_BYTES = 512 * 1024  # a trust list of a few hundred keys; a compressed status list
Actor = Mapping[str, Any]


@dataclass(frozen=True)
class StatusListCopy:
    """A region's signed status list as installed here."""

    list_id: str
    data: bytes
    issued_at: datetime
    installed_at: datetime


@dataclass(frozen=True)
class Region:
    """A region's pinned root key and what it has published, as installed here."""

    name: str
    title: str
    root_public_key: bytes
    root_kid: bytes
    registered_at: datetime
    trust_list: bytes | None = None
    sequence: int = 0
    trust_list_issued_at: datetime | None = None
    status_lists: Mapping[str, StatusListCopy] = field(default_factory=dict)
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None

    @property
    def active(self) -> bool:
        """Whether its credentials are verified here (registered, not withdrawn)."""
        return self.withdrawn_at is None


def check_region_name(name: object) -> str:
    """Return a region name (lower-case letters, digits, hyphens; 2-32) or refuse it."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidCommand(
            f"region name: expected 2-32 lower-case letters, digits or hyphens, got {name!r}"
        )
    return name


def _check_admin(actor: Actor, at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand(f"expected a timezone-aware time, got naive {at!r}")
    if actor.get("role") != "admin":
        raise ActionNotPermitted(
            f"other regions' trust is set by an administrator, got role {actor.get('role')!r}"
        )


def _check_document(what: str, data: object) -> bytes:
    if not isinstance(data, bytes) or not data:
        raise RegionDocumentInvalid(f"{what}: expected non-empty bytes, got {type(data).__name__}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise RegionDocumentInvalid(
            f"{what}: expected at most {MAX_DOCUMENT_BYTES:,} bytes, got {len(data):,}"
        )
    return data


class RegionDirectory(Aggregate):
    """Every region registered here, its root key, trust list and status lists."""

    TOPIC_PREFIX: ClassVar[str] = "region"
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls) -> UUID:
        """The one directory's id."""
        return _DIRECTORY

    @event("Opened")
    def __init__(self, *, at: datetime, actor: dict[str, Any], channel: str) -> None:
        self.regions: dict[str, Region] = {}

    def region(self, name: str) -> Region:
        """Return a registered region (withdrawn ones too) or raise ``UnknownRegion``."""
        found = self.regions.get(name)
        if found is None:
            raise UnknownRegion(f"no region named {name!r} is registered")
        return found

    def _active(self, name: str) -> Region:
        region = self.region(name)
        if not region.active:
            raise RegionConflict(
                f"region {name!r} was withdrawn; register it again under a new name"
            )
        return region

    # -- commands ---------------------------------------------------------------------------------

    def register(
        self,
        *,
        name: str,
        title: str,
        root_public_key: bytes,
        root_kid: bytes,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> bool:
        """Pin a region's root key; the same again changes nothing; another key is refused."""
        _check_admin(actor, at)
        check_region_name(name)
        if not isinstance(title, str) or not title.strip() or len(title) > 64:
            raise InvalidCommand(f"region title: expected 1-64 characters, got {title!r}")
        _check_document("root public key", root_public_key)
        known = self.regions.get(name)
        if known is not None:
            if known.root_public_key != root_public_key or known.title != title.strip():
                raise RegionConflict(
                    f"region {name!r} is registered with root key {known.root_kid.hex()} and "
                    f"title {known.title!r}; a region's root is pinned for good"
                )
            return False
        pinned = {r.root_kid: r.name for r in self.regions.values()}
        if root_kid in pinned:
            raise RegionConflict(
                f"root key {root_kid.hex()} is already pinned for region {pinned[root_kid]!r}"
            )
        self._registered(
            name=name,
            title=title.strip(),
            root_public_key=root_public_key,
            root_kid=root_kid,
            at=at,
            actor=dict(actor),
            channel=channel,
        )
        return True

    def install_trust_list(
        self,
        *,
        name: str,
        data: bytes,
        sequence: int,
        issued_at: datetime,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> bool:
        """Install a region's (verified) trust list: a higher sequence than the one installed."""
        _check_admin(actor, at)
        region = self._active(name)
        _check_document("trust list", data)
        if data == region.trust_list:
            return False
        if sequence <= region.sequence:
            raise RegionConflict(
                f"region {name!r}: expected a trust list with a sequence above "
                f"{region.sequence}, got {sequence}"
            )
        self._trust_list_installed(
            name=name,
            data=data,
            sequence=sequence,
            issued_at=issued_at,
            at=at,
            actor=dict(actor),
            channel=channel,
        )
        return True

    def install_status_list(
        self,
        *,
        name: str,
        list_id: str,
        data: bytes,
        issued_at: datetime,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> bool:
        """Install a region's (verified) status list: newer than the copy of that list here."""
        _check_admin(actor, at)
        region = self._active(name)
        if region.trust_list is None:
            raise RegionConflict(f"region {name!r} has no trust list yet: install that first")
        _check_document("status list", data)
        current = region.status_lists.get(list_id)
        if current is not None and current.data == data:
            return False
        if current is not None and issued_at <= current.issued_at:
            raise RegionConflict(
                f"region {name!r}: expected status list {list_id!r} issued after "
                f"{current.issued_at.isoformat()}, got one issued {issued_at.isoformat()}"
            )
        self._status_list_installed(
            name=name,
            list_id=list_id,
            data=data,
            issued_at=issued_at,
            at=at,
            actor=dict(actor),
            channel=channel,
        )
        return True

    def withdraw(self, *, name: str, reason: str, at: datetime, actor: Actor, channel: str) -> bool:
        """Stop verifying a region's credentials here; its history stays."""
        _check_admin(actor, at)
        region = self.region(name)
        if not region.active:
            return False
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise InvalidCommand(f"withdrawal reason: expected 1-500 characters, got {reason!r}")
        self._withdrawn(name=name, reason=reason.strip(), at=at, actor=dict(actor), channel=channel)
        return True

    # -- events -----------------------------------------------------------------------------------

    @event("Registered")
    def _registered(
        self,
        *,
        name: str,
        title: str,
        root_public_key: bytes,
        root_kid: bytes,
        at: datetime,
        actor: dict[str, Any],
        channel: str,
    ) -> None:
        self.regions[name] = Region(name, title, root_public_key, root_kid, registered_at=at)

    @event("TrustListInstalled")
    def _trust_list_installed(
        self,
        *,
        name: str,
        data: bytes,
        sequence: int,
        issued_at: datetime,
        at: datetime,
        actor: dict[str, Any],
        channel: str,
    ) -> None:
        self.regions[name] = replace(
            self.regions[name], trust_list=data, sequence=sequence, trust_list_issued_at=issued_at
        )

    @event("StatusListInstalled")
    def _status_list_installed(
        self,
        *,
        name: str,
        list_id: str,
        data: bytes,
        issued_at: datetime,
        at: datetime,
        actor: dict[str, Any],
        channel: str,
    ) -> None:
        region = self.regions[name]
        copy = StatusListCopy(list_id, data, issued_at, installed_at=at)
        self.regions[name] = replace(region, status_lists={**region.status_lists, list_id: copy})

    @event("Withdrawn")
    def _withdrawn(
        self, *, name: str, reason: str, at: datetime, actor: dict[str, Any], channel: str
    ) -> None:
        self.regions[name] = replace(self.regions[name], withdrawn_at=at, withdrawal_reason=reason)
