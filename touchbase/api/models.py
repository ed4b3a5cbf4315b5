"""API keys: how an integration authenticates as one business.

The full key is shown once, when it is created; only its SHA-256 is stored. A key is 32
random bytes, so a plain hash is enough (nothing to brute-force, no need for a slow KDF),
and lookup is one indexed equality. The visible prefix lets an owner tell keys apart.
"""

from django.db import models
from django.db.models import Q

from touchbase.tenancy.models import Business


class ApiKey(models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What uses this key, e.g. 'Jobber sync'.")
    prefix = models.CharField(max_length=16, help_text="The key's visible start, e.g. tb_3kQ9xY.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["business", "-created_at"], name="apikey_business_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(prefix=""), name="apikey_has_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
