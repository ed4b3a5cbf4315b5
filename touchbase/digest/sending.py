"""Sending the digests that are due: at most once per member and period.

1. For each business, the period due now for each frequency its members chose (weekly by
   default), in the business's zone; members who turned it off get nothing.
2. A member whose row for that period exists is done (sent, skipped or failed before).
3. The business's digest is built once per period; when nothing happened, each member's row
   is written `skipped` and nothing is sent.
4. Otherwise the row is inserted `sending` first: its unique key lets exactly one worker win;
   then the email goes out and the row says `sent` or `failed` (never retried: a digest that
   may have gone out is not sent twice).
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from touchbase import clock
from touchbase.digest.models import DigestFrequency, DigestSent
from touchbase.digest.schedule import due_period
from touchbase.digest.summary import Digest, build_digest
from touchbase.tenancy.models import Business, Membership

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "touchbase.digest.unsubscribe"


def unsubscribe_url(membership: Membership) -> str:
    token = signing.dumps(membership.pk, salt=UNSUBSCRIBE_SALT, compress=True)
    return f"{settings.PUBLIC_BASE_URL}/digest/unsubscribe/{token}"


def membership_from_token(token: str) -> Membership | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Membership.objects.filter(pk=pk).select_related("user", "business").first()


def frequency_of(membership: Membership) -> str:
    preference = getattr(membership, "digest_preference", None)
    return preference.frequency if preference else DigestFrequency.WEEKLY


def digest_email(digest: Digest, membership: Membership) -> EmailMultiAlternatives:
    context = {"digest": digest, "unsubscribe_url": unsubscribe_url(membership)}
    email = EmailMultiAlternatives(
        subject=f"{digest.business.name}: your review requests, {digest.period.label}",
        body=render_to_string("digest/email.txt", context),
        to=[membership.user.email],
        headers={
            # RFC 8058 one-click: the mail client POSTs to the link, no login needed.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(render_to_string("digest/email.html", context), "text/html")
    return email


def _claim(membership: Membership, frequency: str, period, status: str, now) -> bool:
    try:
        with transaction.atomic():
            DigestSent.objects.create(
                membership=membership,
                frequency=frequency,
                period_start=period.start.date(),
                status=status,
                created_at=now,
            )
    except IntegrityError:
        return False  # another worker has it
    return True


def send_due_digests(now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for business in Business.objects.order_by("pk").iterator():
        members = list(
            Membership.objects.filter(business=business).select_related("user", "digest_preference")
        )
        due, digests = {}, {}
        for membership in members:
            frequency = frequency_of(membership)
            if frequency not in due:
                due[frequency] = due_period(frequency, now, business.time_zone)
            period = due[frequency]
            if period is None or _already_done(membership, period):
                continue
            if frequency not in digests:  # built once per business and period
                digests[frequency] = build_digest(business, period, now)
            _send_one(digests[frequency], membership, now, counts)
    return {name: count for name, count in counts.items() if count}


def _already_done(membership: Membership, period) -> bool:
    return DigestSent.objects.filter(
        membership=membership, frequency=period.frequency, period_start=period.start.date()
    ).exists()


def _send_one(digest: Digest, membership: Membership, now, counts: dict[str, int]) -> None:
    period = digest.period
    if digest.is_empty:
        if _claim(membership, period.frequency, period, DigestSent.Status.SKIPPED, now):
            counts["skipped"] += 1
        return
    if not _claim(membership, period.frequency, period, DigestSent.Status.SENDING, now):
        return
    row = DigestSent.objects.filter(
        membership=membership, frequency=period.frequency, period_start=period.start.date()
    )
    try:
        digest_email(digest, membership).send()
    except Exception as exc:  # one member's bad address must not stop the others
        logger.exception("digest for membership %s", membership.pk)
        row.update(status=DigestSent.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])
        counts["failed"] += 1
        return
    row.update(status=DigestSent.Status.SENT)
    counts["sent"] += 1
