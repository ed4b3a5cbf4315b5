"""Where abuse happens on the way into a business, and how often each step may be tried.

Every limit is counted by the project's one mechanism (touchbase/ratelimit.py), so every
web process sees the same counts. Failures of a login count against both the account and
the client address: a guesser spreading over many accounts, or over many addresses, is cut
off either way.
"""

from datetime import timedelta

from touchbase.ratelimit import Limit

LOGIN_FAILURES_PER_ACCOUNT = Limit("login-account", 10, timedelta(minutes=15))
LOGIN_FAILURES_PER_ADDRESS = Limit("login-address", 10, timedelta(minutes=15))
PASSWORD_RESETS_PER_ADDRESS = Limit("reset-address", 5, timedelta(hours=1))
PASSWORD_RESETS_PER_ACCOUNT = Limit("reset-account", 3, timedelta(hours=1))
SIGNUPS_PER_ADDRESS = Limit("signup-address", 5, timedelta(hours=1))
INVITATIONS_PER_BUSINESS = Limit("invite-business", 20, timedelta(days=1))
TEST_MESSAGES_PER_BUSINESS = Limit("test-message", 5, timedelta(hours=1))
PHONE_CODES_PER_BUSINESS = Limit("phone-code", 3, timedelta(hours=1))
VERIFY_EMAILS_PER_ACCOUNT = Limit("verify-account", 3, timedelta(hours=1))
