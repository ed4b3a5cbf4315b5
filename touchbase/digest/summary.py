"""What a digest says about one business and period, against the period before: a few
grouped queries, shared by the email and the preview page."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q

from touchbase.campaigns.models import Enrollment, StopReason
from touchbase.customers.models import ConsentRecord, Customer
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.digest.schedule import Period
from touchbase.inbound.models import Feedback, InboundSms, SmsIntent
from touchbase.tenancy.models import Business

LISTED = 5  # replies and feedback shown in full; the rest are a count and a link


@dataclass(frozen=True)
class Figure:
    label: str
    now: int
    before: int
    unit: str = ""

    @property
    def change(self) -> str:
        delta = self.now - self.before
        return "same as before" if delta == 0 else f"{delta:+d}{self.unit} vs before"


@dataclass
class Digest:
    business: Business
    period: Period
    figures: list[Figure]
    replies: list[InboundSms] = field(default_factory=list)
    reply_count: int = 0
    feedback: list[Feedback] = field(default_factory=list)
    feedback_count: int = 0
    attention_count: int = 0
    scheduled_next_week: int = 0
    base_url: str = ""

    @property
    def is_empty(self) -> bool:
        """Nothing happened: no send, click, opt-out, reply, feedback or failure."""
        return not (
            any(figure.now for figure in self.figures)
            or self.reply_count
            or self.feedback_count
            or self.attention_count
        )


def _counts(business: Business, start: datetime, end: datetime) -> dict[str, int]:
    sent = Delivery.objects.filter(
        business=business, status=DeliveryStatus.SENT, sent_at__gte=start, sent_at__lt=end
    ).aggregate(
        email=Count("pk", filter=Q(channel="email")), sms=Count("pk", filter=Q(channel="sms"))
    )
    clicks = Enrollment.objects.filter(
        business=business,
        stop_reason=StopReason.REVIEW_CLICKED,
        stopped_at__gte=start,
        stopped_at__lt=end,
    ).count()
    opt_outs = (
        ConsentRecord.objects.filter(
            business=business, action="opt_out", created_at__gte=start, created_at__lt=end
        ).count()
        + Customer.objects.filter(
            business=business, email_opted_out_at__gte=start, email_opted_out_at__lt=end
        ).count()
    )
    return {"email": sent["email"], "sms": sent["sms"], "clicks": clicks, "opt_outs": opt_outs}


def _click_rate(counts: dict[str, int]) -> int:
    sent = counts["email"] + counts["sms"]
    return round(100 * counts["clicks"] / sent) if sent else 0


def build_digest(business: Business, period: Period, now: datetime) -> Digest:
    current = _counts(business, period.start, period.end)
    before = _counts(business, period.previous.start, period.previous.end)
    replies = InboundSms.objects.filter(
        business=business,
        intent=SmsIntent.REPLY,
        received_at__gte=period.start,
        received_at__lt=period.end,
    ).select_related("customer")
    feedback = Feedback.objects.filter(
        business=business, created_at__gte=period.start, created_at__lt=period.end
    ).select_related("customer")
    return Digest(
        business=business,
        period=period,
        figures=[
            Figure("Review requests sent by email", current["email"], before["email"]),
            Figure("Review requests sent by text", current["sms"], before["sms"]),
            Figure("Review-link clicks", current["clicks"], before["clicks"]),
            Figure("Click rate", _click_rate(current), _click_rate(before), unit="%"),
            Figure("Opt-outs", current["opt_outs"], before["opt_outs"]),
        ],
        replies=list(replies.order_by("-received_at")[:LISTED]),
        reply_count=replies.count(),
        feedback=list(feedback.order_by("-created_at")[:LISTED]),
        feedback_count=feedback.count(),
        attention_count=Delivery.objects.filter(
            business=business,
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN],
            updated_at__gte=period.start,
            updated_at__lt=period.end,
        ).count(),
        scheduled_next_week=Delivery.objects.filter(
            business=business,
            status=DeliveryStatus.PENDING,
            send_after__gte=now,
            send_after__lt=now + timedelta(days=7),
        ).count(),
        base_url=settings.PUBLIC_BASE_URL,
    )
