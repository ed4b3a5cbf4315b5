"""SMS keywords (PRODUCT §8), kept as data so the lists can change without code changes.

A message is a keyword only when, ignoring case, surrounding spaces and punctuation, it *is*
the keyword ("Stop.", " stop ", "OPT-OUT", "opt out!"). A sentence that merely contains one
("stop it please", "please stop texting me") is not: it is flagged for the owner, because
revoking consent on a guess could as easily be wrong ("don't stop, this is great").
"""

import re

from touchbase.inbound.models import SmsIntent

KEYWORDS: dict[str, SmsIntent] = {
    **dict.fromkeys(
        [
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
        ],
        SmsIntent.OPT_OUT,
    ),
    **dict.fromkeys(["START", "UNSTOP"], SmsIntent.OPT_IN),
    **dict.fromkeys(["HELP", "INFO"], SmsIntent.HELP),
}

# Plain-language messages that seem to ask us to stop. Matched anywhere in the message,
# case-insensitively, after punctuation is removed. The FCC's own words (2024 revocation
# rule: STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE) inside a sentence, and the
# usual phrasings ("opt me out", "remove me").
STOP_REQUEST_WORDS: tuple[str, ...] = (
    "stop",
    "quit",
    "end",
    "revoke",
    "cancel",
    "unsubscribe",
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
)
_STOP_REQUEST = re.compile("|".join(STOP_REQUEST_PATTERNS), re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalize(body: str) -> str:
    """Upper case, punctuation removed (hyphens become spaces), runs of spaces collapsed."""
    text = _NOT_WORD.sub(" ", (body or "").replace("_", " "))
    return _SPACES.sub(" ", text).strip().upper()


def keyword_intent(body: str) -> SmsIntent | None:
    """The keyword's meaning when the whole message is one keyword, else None."""
    text = normalize(body)
    return KEYWORDS.get(text) or KEYWORDS.get(text.replace(" ", ""))


def looks_like_stop_request(body: str) -> bool:
    """A message that is not a keyword but reads like a request to stop."""
    return bool(_STOP_REQUEST.search(normalize(body).lower()))


# What we answer (as TwiML) to a keyword. No marketing in any of them (PRODUCT §8).
OPT_OUT_CONFIRMATION = (
    "{prefix}You are unsubscribed and will receive no more texts from us. "
    "Reply START to resubscribe."
)
OPT_IN_CONFIRMATION = (
    "{prefix}You are resubscribed to texts about your service visits. "
    "Msg & data rates may apply. Reply STOP to opt out, HELP for help."
)
HELP_TEXT = (
    "{prefix}Review requests after your service visit. Help: {contact}. "
    "Up to {max_messages} msgs per visit. Msg & data rates may apply. Reply STOP to opt out."
)
HELP_CONTACT_FALLBACK = "reply to this message"
