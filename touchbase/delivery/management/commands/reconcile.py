"""`touchbase reconcile`: settle uncertain texts from Twilio's message log (cron: every
few minutes)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from touchbase.channels import Channel
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.twilio import TwilioSmsTransport
from touchbase.delivery.reconcile import RECONCILE_AFTER, reconcile_uncertain_sms


class Command(BaseCommand):
    help = "Ask Twilio about uncertain texts and record those its log proves sent or failed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=float,
            default=RECONCILE_AFTER.total_seconds() / 60,
            help="only texts uncertain for at least this long (status callbacks come first)",
        )

    def handle(self, *args, older_than_minutes, **options):
        transport = transport_for(Channel.SMS)
        if not isinstance(transport, TwilioSmsTransport):
            self.stdout.write("the SMS backend is not Twilio: nothing to reconcile")
            return
        counts = reconcile_uncertain_sms(
            transport=transport, older_than=timedelta(minutes=older_than_minutes)
        )
        summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        self.stdout.write(f"reconciled uncertain texts: {summary or 'none to ask about'}")
