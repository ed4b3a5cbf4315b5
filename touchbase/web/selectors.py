"""Reads for the owner's pages, always scoped to the businesses the user belongs to."""

from dataclasses import dataclass

from django.db.models import QuerySet

from touchbase.campaigns.models import Campaign, Enrollment, EnrollmentStatus
from touchbase.jobs.models import Job
from touchbase.tenancy.models import Business, User


def businesses_of(user: User) -> QuerySet[Business]:
    return Business.objects.filter(memberships__user=user).order_by("name")


@dataclass
class BusinessOverview:
    business: Business
    campaigns: list[Campaign]
    active_enrollments: int
    recent_jobs: list[Job]


def business_overview(business: Business) -> BusinessOverview:
    return BusinessOverview(
        business=business,
        campaigns=list(business.campaigns.order_by("service_type", "name")),
        active_enrollments=Enrollment.objects.filter(
            business=business, status=EnrollmentStatus.ACTIVE
        ).count(),
        recent_jobs=list(business.jobs.select_related("customer").order_by("-created_at")[:20]),
    )
