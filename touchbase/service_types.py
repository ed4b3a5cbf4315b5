"""The service types a home-service business can offer.

A fixed catalogue so that campaigns, jobs and the per-service timing map agree on spelling
(an integration sending "HVAC " or "hvac" lands on the same campaign).
"""

from django.db import models


class ServiceType(models.TextChoices):
    HVAC = "hvac", "HVAC"
    PLUMBING = "plumbing", "Plumbing"
    ELECTRICAL = "electrical", "Electrical"
    CLEANING = "cleaning", "Cleaning"
    ROOFING = "roofing", "Roofing"
    PAINTING = "painting", "Painting"
    LANDSCAPING = "landscaping", "Landscaping"
    PEST_CONTROL = "pest_control", "Pest control"
    HANDYMAN = "handyman", "Handyman"
    GARAGE_DOOR = "garage_door", "Garage door"
    APPLIANCE_REPAIR = "appliance_repair", "Appliance repair"
    POOL = "pool", "Pool service"
    OTHER = "other", "Other"


def parse_service_type(raw: str) -> str | None:
    """The catalogue value for `raw` (case and spacing forgiven), or None when unknown."""
    candidate = raw.strip().lower().replace(" ", "_").replace("-", "_")
    return candidate if candidate in ServiceType.values else None


def unknown_service_type_message(raw: str) -> str:
    return f"unknown service type {raw!r}; expected one of: {', '.join(ServiceType.values)}"
