"""Other regions' trust on real SQLite and PostgreSQL: what one process installs, another trusts
(a newer list replaces the older there too); the installs are signed events like any other."""

from __future__ import annotations

from datetime import timedelta

from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.regions import RegionDirectory
from licenses.verify import VerificationStatus
from tests.foreign_region import ForeignRegion
from tests.integration.conftest import Pair
from tests.unit.ledger.conftest import ADMIN, T0

VERIFIER = Actor("verifier-zjj", Role.VERIFIER, department="zjj")
AT = T0 + timedelta(days=1)


def admin() -> Command:
    return Command(at=AT, actor=ADMIN, channel=Channel.SYSTEM)


def verified(ledger: CaseLedger, qr_text: str) -> VerificationStatus:
    cmd = Command(at=AT, actor=VERIFIER, channel=Channel.SYSTEM)
    return ledger.sharing.verify(cmd, purpose="异地核验", qr_text=qr_text).status


def test_what_one_process_installs_another_trusts_and_both_follow_a_newer_list(
    pair: Pair,
) -> None:
    hunan = ForeignRegion()
    other = pair.another()
    assert verified(other, hunan.qr_text()) is VerificationStatus.UNKNOWN_ISSUER
    regions = pair.ledger.regions
    assert regions.register(admin(), name="hunan", title="湖南省", root_public_key=hunan.root_key)
    assert regions.install_trust_list(admin(), name="hunan", data=hunan.trust_list())
    assert verified(other, hunan.qr_text()) is VerificationStatus.VALID
    assert regions.install_status_list(admin(), name="hunan", data=hunan.status_list(revoked=(77,)))
    assert verified(other, hunan.qr_text(slot=77)) is VerificationStatus.REVOKED
    # The other process installs the next trust list; the first one follows it.
    assert other.regions.install_trust_list(admin(), name="hunan", data=hunan.trust_list(2))
    assert pair.ledger.regions.region("hunan").sequence == 2
    assert verified(pair.ledger, hunan.qr_text("202600000009", slot=78)) is VerificationStatus.VALID


def test_installs_are_signed_events_a_fresh_process_reads_back_verified(pair: Pair) -> None:
    hunan = ForeignRegion()
    regions = pair.ledger.regions
    regions.register(admin(), name="hunan", title="湖南省", root_public_key=hunan.root_key)
    regions.install_trust_list(admin(), name="hunan", data=hunan.trust_list())
    stored = pair.ledger.events.get(RegionDirectory.create_id())
    assert [type(e).__name__ for e in stored] == ["Opened", "Registered", "TrustListInstalled"]
    region = pair.another().regions.region("hunan")
    assert (region.sequence, region.root_kid) == (1, hunan.ring.root_kid)
