"""The domain read models the service runs by default, built from the working-day calendar."""

from __future__ import annotations

from ledger.calendar import WorkingCalendar
from licenses.types import LicenseTypes, load_license_types
from licenses.usage import SharingPolicies, load_sharing_policies
from projections.audit_index import AuditIndex
from projections.case_board import CaseBoard
from projections.case_facts import DEFAULT_APPLICANT_KEY
from projections.catalog_view import CatalogView
from projections.license_registry import LicenseRegistry
from projections.license_use import LicenseUseLog
from projections.runtime import ReadModel
from projections.shared_views import SharedViews
from projections.statistics import Statistics
from projections.supervision import Supervision


def default_read_models(
    calendar: WorkingCalendar,
    *,
    applicant_key: bytes = DEFAULT_APPLICANT_KEY,
    sharing_policies: SharingPolicies | None = None,
    license_types: LicenseTypes | None = None,
) -> list[ReadModel]:
    """Return the case-side models, then the license registry, use log and shared views."""
    policies = load_sharing_policies() if sharing_policies is None else sharing_policies
    types = load_license_types() if license_types is None else license_types
    return [
        CatalogView(),
        CaseBoard(calendar, applicant_key=applicant_key),
        Supervision(calendar, applicant_key=applicant_key),
        Statistics(calendar, applicant_key=applicant_key),
        AuditIndex(),
        LicenseRegistry(),
        LicenseUseLog(),
        SharedViews(policies, types),
    ]
