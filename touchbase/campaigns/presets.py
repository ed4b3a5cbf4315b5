"""Keys of the read-only presets and system templates created by migration 0002."""

CONSERVATIVE = "conservative"
STANDARD = "standard"
AGGRESSIVE = "aggressive"
PRESET_KEYS = (CONSERVATIVE, STANDARD, AGGRESSIVE)

EMAIL_REQUEST = "email_request"
EMAIL_REMINDER = "email_reminder"
SMS_REQUEST = "sms_request"
SMS_REMINDER = "sms_reminder"
