"""What the decide step (engine.py, step 2) reads about a batch: the locked rows and every
fact the rules need, in a fixed handful of statements whatever the batch's size.

The rows come with their enrollment, customer and job, and only the columns the rules,
rendering, the decided write and the record step read: a deferred column that one of them
did read would cost a query per row (tests/delivery/test_decide_statements.py counts
them). Each business is loaded once, not once per row: a batch is usually a few businesses.
"""

from datetime import datetime

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from touchbase.bulk_reads import among
from touchbase.channels import Channel
from touchbase.customers.models import SmsSuppression
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.pacing import RecentSends
from touchbase.delivery.recording import OutgoingSend
from touchbase.delivery.send_window import SendWindow, load_rules, phone_facts, window_for
from touchbase.delivery.sequencing import TouchMap, load_touches
from touchbase.tenancy.models import Business, Membership, User

# Not read while deciding or recording: the receipt (written by inbound callbacks), and
# the row's own timestamps (`updated_at` is set before every write of the row).
DELIVERY_COLUMNS = [
    field.name
    for field in Delivery._meta.concrete_fields
    if field.name not in {"receipt_status", "receipt_at", "created_at", "updated_at"}
]
RELATED_COLUMNS = {
    # The enrollment's state, and what events and the next touch name.
    "enrollment": ["status", "business", "campaign", "customer", "job"],
    # Reachability, send window, language and the message's words.
    "enrollment__customer": [
        "business",
        "name",
        "email",
        "phone",
        "time_zone",
        "language",
        "email_opted_out_at",
        "email_bounced_at",
        "sms_consent",
        "phone_unusable",
    ],
    # The message's words and the webhook events' external id.
    "enrollment__job": ["service_type", "technician_name", "external_id"],
}
COLUMNS = DELIVERY_COLUMNS + [
    f"{path}__{name}" for path, names in RELATED_COLUMNS.items() for name in names
]


def recipient_address(customer, channel: str) -> str:
    return customer.email if channel == Channel.EMAIL else customer.phone


def locked_batch(ids: list[int], owner: str) -> list[Delivery]:
    """The claimed rows still ours, oldest first, with their enrollments locked too (a
    stop or a freeze waits for the decision, or the decision sees it)."""
    return list(
        Delivery.objects.select_for_update(of=("self", "enrollment"))
        .select_related("enrollment", "enrollment__customer", "enrollment__job")
        .only(*COLUMNS)
        .filter(among("pk", ids), status=DeliveryStatus.CLAIMED, lease_owner=owner)
        .order_by("send_after", "id")
    )


def owner_unverified() -> RawSQL:
    """Per business: it has owners and none of them has confirmed their email (an open
    install's new sign-ups): it sends nothing yet. A business made by the operator without
    an owner is the operator's own. Written as SQL: Django's compiled `Exists` pair cost
    more than the rest of the businesses' load."""
    memberships, users = Membership._meta.db_table, User._meta.db_table
    owner_of_row = f"m.business_id = {Business._meta.db_table}.id AND m.role = %s"
    return RawSQL(
        f"EXISTS (SELECT 1 FROM {memberships} m WHERE {owner_of_row})"
        f" AND NOT EXISTS (SELECT 1 FROM {memberships} m JOIN {users} u ON u.id = m.user_id"
        f" WHERE {owner_of_row} AND u.email_verified_at IS NOT NULL)",
        [Membership.Role.OWNER, Membership.Role.OWNER],
        output_field=BooleanField(),
    )


class BatchContext:
    """Everything the rules need about a batch, loaded in a handful of queries."""

    pending_send: OutgoingSend

    def __init__(self, deliveries, businesses, touches, rules, suppressed, recent, texted, now):
        self.deliveries = deliveries
        self.businesses: dict[int, Business] = businesses
        self.unverified_businesses = {pk for pk, b in businesses.items() if b.owner_unverified}
        self.touches: TouchMap = touches
        self.rules = rules
        self.suppressed = suppressed
        self.recent = recent
        self.texted_enrollments = texted
        self.now = now
        self._windows: dict[tuple, tuple[SendWindow, datetime | None]] = {}

    @classmethod
    def load(cls, deliveries: list[Delivery], now: datetime) -> "BatchContext":
        business_ids = {d.business_id for d in deliveries}
        businesses = Business.objects.filter(pk__in=business_ids).annotate(
            owner_unverified=owner_unverified()
        )
        businesses = {business.pk: business for business in businesses}
        for delivery in deliveries:  # one object per business, shared by its rows
            delivery.business = businesses[delivery.business_id]
        touches = load_touches(d.enrollment.campaign_id for d in deliveries)
        # Each touch's own address, not every address of its customer: the suppression
        # list is read for texts, and the recent sends for the address each touch would use.
        phones, addresses = set(), set()
        for delivery in deliveries:
            touch = touches.get((delivery.enrollment.campaign_id, delivery.position))
            customer = delivery.enrollment.customer
            if touch is None or customer is None:
                continue
            addresses.add(recipient_address(customer, touch.channel))
            if touch.channel == Channel.SMS:
                phones.add(customer.phone)
        phones.discard("")
        addresses.discard("")
        suppressed = set(
            SmsSuppression.objects.filter(
                among("phone", phones), business_id__in=business_ids
            ).values_list("business_id", "phone")
        )
        texted = set(
            Delivery.objects.filter(
                among("enrollment_id", {d.enrollment_id for d in deliveries}),
                channel=Channel.SMS,
                status__in=[DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN],
            ).values_list("enrollment_id", flat=True)
        )
        return cls(
            deliveries,
            businesses,
            touches,
            load_rules(),
            suppressed,
            RecentSends(business_ids, addresses, now),
            texted,
            now,
        )

    def touch_of(self, delivery: Delivery):
        return self.touches.get((delivery.enrollment.campaign_id, delivery.position))

    def send_window(self, customer, business) -> tuple[SendWindow, datetime | None]:
        """The recipient's window (send_window.window_for) and its next opening from the
        batch's `now`, computed once per business and recipient zone: everything the
        window depends on is in the key (the business, the customer's own zone, the
        number's country, state and zones)."""
        facts = phone_facts(customer.phone) if customer.phone else None
        key = (business.pk, customer.time_zone, facts)
        known = self._windows.get(key)
        if known is None:
            window = window_for(customer, business, self.rules)
            known = self._windows[key] = (window, window.next_opening(self.now))
        return known
