"""A member's digest choice: the settings page and the one-click unsubscribe both write here."""

from django.core.exceptions import ValidationError

from touchbase.digest.models import DigestFrequency, DigestPreference
from touchbase.tenancy.models import Membership


def set_digest_frequency(*, membership: Membership, frequency: str) -> DigestPreference:
    if frequency not in DigestFrequency.values:
        raise ValidationError({"frequency": f"must be one of {', '.join(DigestFrequency.values)}"})
    preference, _ = DigestPreference.objects.update_or_create(
        membership=membership, defaults={"frequency": frequency}
    )
    return preference
