"""Telling a link scanner from a customer (PRODUCT §4: only a customer's click stops a sequence).

Mail security gateways and chat apps fetch every link of a message to check or preview it:
with HEAD requests, with their own user agents, or seconds after the message was sent. Such
a fetch is recorded (the owner may want to know) but stops nothing. Kept as data.
"""

from datetime import datetime, timedelta

# Lower-case fragments of the User-Agent of known link scanners and previewers.
SCANNER_USER_AGENTS: tuple[str, ...] = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "safelinks",
    "microsoft office",
    "ms-office",
    "symantec",
    "messagelabs",
    "forcepoint",
    "trendmicro",
    "sophos",
    "fortiguard",
    "cisco ironport",
    "zscaler",
    "googleimageproxy",
    "google-safety",
    "bingpreview",
    "facebookexternalhit",  # also Apple's iMessage link preview
    "twitterbot",
    "slackbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "skypeuripreview",
    "linkedinbot",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "libwww-perl",
    "okhttp",
    "headlesschrome",
    "phantomjs",
    "bot",
    "crawler",
    "spider",
    "preview",
    "scanner",
)

# A fetch this soon after the message left us is a machine, not a person reading it.
SCANNER_WINDOW = timedelta(seconds=15)


def scanner_reason(
    *, method: str, user_agent: str, sent_at: datetime | None, now: datetime
) -> str | None:
    """Why this fetch looks like a scanner ("head", "user_agent", "too_soon"), or None."""
    if method.upper() == "HEAD":
        return "head"
    agent = (user_agent or "").lower().strip()
    if not agent or any(fragment in agent for fragment in SCANNER_USER_AGENTS):
        return "user_agent"
    if sent_at is not None and now - sent_at < SCANNER_WINDOW:
        return "too_soon"
    return None
