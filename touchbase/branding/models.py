"""How a business looks to its customers: logo and brand colour on the pages they land on
(review redirect, feedback, unsubscribe, thank-you)."""

from django.db import models
from django.db.models import Q

from touchbase.tenancy.models import Business

DEFAULT_COLOUR = "#1f5fbf"


class BusinessBrand(models.Model):
    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="brand")
    colour = models.CharField(max_length=7, default=DEFAULT_COLOUR)
    # The logo as we re-encoded it (PNG, at most 480x160): never the uploaded bytes, so an
    # upload can only ever be pixels. Small enough to live in the database, which keeps
    # every web process able to serve it without shared file storage.
    logo_png = models.BinaryField(blank=True, default=b"")
    logo_hash = models.CharField(max_length=16, blank=True)
    logo_width = models.PositiveIntegerField(default=0)
    logo_height = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # No regex in the constraint: SQLite's REGEXP exists only inside Django, and the
        # backup's integrity check (plain sqlite3) must read the schema. The service checks
        # the full #rrggbb form.
        constraints = [
            models.CheckConstraint(
                condition=Q(colour__startswith="#"), name="brand_colour_starts_with_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"brand of {self.business}"
