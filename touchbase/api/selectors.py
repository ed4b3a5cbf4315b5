"""The reads the API shares: every query starts from the key's business."""

from django.db.models import OuterRef, QuerySet, Subquery

from touchbase.campaigns.models import Campaign, Enrollment
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.tenancy.models import Business


def jobs_of(business: Business) -> QuerySet[Job]:
    latest = Enrollment.objects.filter(job=OuterRef("pk")).order_by("-enrolled_at", "-pk")
    return Job.objects.filter(business=business).annotate(
        latest_enrollment_id=Subquery(latest.values("pk")[:1])
    )


def campaigns_of(business: Business) -> QuerySet[Campaign]:
    return Campaign.objects.filter(business=business).prefetch_related("touches__template")


def enrollments_of(business: Business) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(business=business)


def deliveries_of(business: Business) -> QuerySet[Delivery]:
    return Delivery.objects.filter(business=business).select_related("enrollment")
