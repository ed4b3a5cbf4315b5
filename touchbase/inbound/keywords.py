"""SMS keywords (PRODUCT §8), kept as data so the lists can change without code changes.

A message is a keyword only when, ignoring case, accents, surrounding spaces and
punctuation, it *is* the keyword ("Stop.", " stop ", "OPT-OUT", "opt out!", "no mas"). A
sentence that merely contains one ("stop it please", "please stop texting me") is not: it
is flagged for the owner, because revoking consent on a guess could as easily be wrong
("don't stop, this is great").
"""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from touchbase.inbound.models import SmsIntent

OPT_OUT_WORDS_EN = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT OUT",
    "REMOVE",  # carrier-recognised, though not in the CTIA list
)
# Spanish revocations (the FCC's "any reasonable means", 2025), honoured for every customer.
OPT_OUT_WORDS_ES = ("ALTO", "PARAR", "BAJA", "CANCELAR", "NO MÁS")
HELP_WORDS_ES = ("AYUDA",)

KEYWORDS: dict[str, SmsIntent] = {
    **dict.fromkeys(OPT_OUT_WORDS_EN + OPT_OUT_WORDS_ES, SmsIntent.OPT_OUT),
    **dict.fromkeys(["START", "UNSTOP"], SmsIntent.OPT_IN),
    **dict.fromkeys(["HELP", "INFO", *HELP_WORDS_ES], SmsIntent.HELP),
}
# Keywords written in Spanish: their answer is in Spanish whatever the customer's language.
SPANISH_KEYWORDS = frozenset(OPT_OUT_WORDS_ES + HELP_WORDS_ES)

# Twilio's default opt-out list: Twilio answers these itself, so touchbase stays silent
# (one confirmation, never two). Every other opt-out word (REMOVE, the Spanish ones) is
# confirmed by touchbase, unless the operator says Twilio's Advanced Opt-Out handles them
# too (TOUCHBASE_TWILIO_ADVANCED_OPT_OUT).
PROVIDER_CONFIRMED_OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
)

# Plain-language messages that seem to ask us to stop. Matched anywhere in the message,
# case- and accent-insensitively, after punctuation is removed (so patterns are written
# without accents). The FCC's own words (2024 revocation rule: STOP, QUIT, END, REVOKE,
# OPT OUT, CANCEL, UNSUBSCRIBE) inside a sentence, the usual phrasings ("opt me out",
# "remove me"), and their Spanish counterparts. "alto" alone is not here: inside a
# sentence it mostly means "tall" or "high".
STOP_REQUEST_WORDS: tuple[str, ...] = (
    "stop",
    "quit",
    "end",
    "revoke",
    "cancel",
    "unsubscribe",
    "cancelar",
    "parar",
)
STOP_REQUEST_PATTERNS: tuple[str, ...] = (
    *(rf"\b{word}\b" for word in STOP_REQUEST_WORDS),
    r"\bopt ?(me )?out\b",
    r"\bremove me\b",
    r"\btake me off\b",
    r"\b(do not|dont|don t) (text|message|contact|send)\b",
    r"\bno more (texts|messages)\b",
    r"\bleave me alone\b",
    r"\bwrong number\b",
    # Spanish: "ya no me manden mensajes", "no más mensajes", "bórrenme de la lista"...
    r"\bya no me (manden|envien|escriban|mande|envie|escriba)\b",
    r"\bno (me )?(manden|envien|escriban) (mas )?(mensajes|textos)\b",
    r"\bno mas (mensajes|textos)\b",
    r"\b(borren|borrenme|saquen|saquenme|quitenme|eliminenme)\b.*\blista\b",
    r"\bdar(me)? de baja\b",
    r"\bnumero equivocado\b",
)
_STOP_REQUEST = re.compile("|".join(STOP_REQUEST_PATTERNS), re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize(body: str) -> str:
    """Upper case, accents and punctuation removed (hyphens become spaces), runs of spaces
    collapsed: "¡No más!" is "NO MAS"."""
    text = _NOT_WORD.sub(" ", _without_accents(body or "").replace("_", " "))
    return _SPACES.sub(" ", text).strip().upper()


_BY_NORMALIZED = {normalize(word): word for word in KEYWORDS}


def keyword_of(body: str) -> str | None:
    """The keyword (as listed above) the whole message is, else None."""
    text = normalize(body)
    return _BY_NORMALIZED.get(text) or _BY_NORMALIZED.get(text.replace(" ", ""))


def keyword_intent(body: str) -> SmsIntent | None:
    """The keyword's meaning when the whole message is one keyword, else None."""
    keyword = keyword_of(body)
    return KEYWORDS[keyword] if keyword else None


def looks_like_stop_request(body: str) -> bool:
    """A message that is not a keyword but reads like a request to stop."""
    return bool(_STOP_REQUEST.search(normalize(body).lower()))


# What we answer (as TwiML) to a keyword, translated through the catalogue
# (locale/es/LC_MESSAGES/django.po). No marketing in any of them (PRODUCT §8).
OPT_OUT_CONFIRMATION = _(
    "{prefix}You are unsubscribed and will receive no more texts from us. "
    "Reply START to resubscribe."
)
OPT_IN_CONFIRMATION = _(
    "{prefix}You are resubscribed to texts about your service visits. "
    "Msg & data rates may apply. Reply STOP to opt out, HELP for help."
)
HELP_TEXT = _(
    "{prefix}Review requests after your service visit. Help: {contact}. "
    "Up to {max_messages} msgs per visit. Msg & data rates may apply. Reply STOP to opt out."
)
HELP_CONTACT_FALLBACK = _("reply to this message")
