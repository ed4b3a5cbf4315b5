"""The languages customers are written to (PRODUCT §10): English and Spanish.

A customer's `language` is "en", "es" or "" (the business's default customer language);
`customer_language` is the one rule that resolves it. The owner's app stays English.
"""

from django.db import models


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish (español)"


# What intake accepts for a language (CSV cells, API, webhook, forms), lower case.
LANGUAGE_WORDS = {
    "en": Language.ENGLISH,
    "english": Language.ENGLISH,
    "en-us": Language.ENGLISH,
    "es": Language.SPANISH,
    "spanish": Language.SPANISH,
    "español": Language.SPANISH,
    "espanol": Language.SPANISH,
    "es-us": Language.SPANISH,
    "es-mx": Language.SPANISH,
}


# For the owner's forms: a customer's language, or the business's default.
LANGUAGE_FORM_CHOICES = [("", "Your business's default"), *Language.choices]
LANGUAGE_FORM_HELP = "The language of this customer's messages and pages."


def parse_language(raw: str) -> str | None:
    """ "en"/"es" for a known spelling, "" for an empty value, None when unknown."""
    text = (raw or "").strip().lower().replace("_", "-")
    if not text:
        return ""
    return LANGUAGE_WORDS.get(text)


def unknown_language_message(raw: str) -> str:
    return f"{raw!r} is not a language touchbase writes in (en or es)"


def customer_language(customer, business) -> str:
    """The language a customer is written to: their own, else the business's default."""
    own = getattr(customer, "language", "") if customer is not None else ""
    if own:
        return own
    return getattr(business, "default_customer_language", "") or Language.ENGLISH
