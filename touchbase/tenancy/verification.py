"""Proving an account holds its email address, and its mobile number.

An account on an open install sends nothing until its address is verified: sign-up emails a
signed link (VERIFY_DAYS); an invitation link or a password-reset link proves it too. A
test text goes only to the user's own number, proved by a code texted to it.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.mail import send_mail
from django.urls import reverse

from touchbase import clock
from touchbase.tenancy.models import User

VERIFY_DAYS = 3
PHONE_CODE_MINUTES = 10
PHONE_CODE_TRIES = 5
_SALT = "touchbase.verify-email"


def verification_link(user: User) -> str:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=_SALT)
    return settings.PUBLIC_BASE_URL + reverse("web:verify_email", args=[token])


def send_verification(user: User) -> None:
    send_mail(
        subject="Confirm your email for touchbase",
        message=(
            "Open this link to confirm your address and finish signing up:\n"
            f"{verification_link(user)}\n\n"
            f"It expires in {VERIFY_DAYS} days. Until then your business sends nothing.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def send_account_exists(user: User) -> None:
    """Someone signed up with an address that has an account: tell its holder, not them."""
    login = settings.PUBLIC_BASE_URL + reverse("web:login")
    reset = settings.PUBLIC_BASE_URL + reverse("web:password_reset")
    send_mail(
        subject="Your touchbase account",
        message=(
            "Someone tried to sign up to touchbase with this address, which already has an "
            f"account. To use it, log in at {login} (forgotten password: {reset}).\n"
            "If it was not you, you can ignore this email: nothing was changed.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def verify_email(token: str) -> User | None:
    """The user a link verifies (now marked verified), or None for a bad or old link."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=timedelta(days=VERIFY_DAYS))
    except signing.BadSignature:
        return None
    # The address in the link must still be the account's: a changed address needs a new link.
    user = User.objects.filter(pk=data.get("user"), email=data.get("email")).first()
    if user is not None:
        mark_email_verified(user)
    return user


def mark_email_verified(user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
        User.objects.filter(pk=user.pk).update(email_verified_at=user.email_verified_at)


def new_phone_code() -> tuple[str, str]:
    """A 6-digit code and the hash to keep (in the session) until it is typed back."""
    code = f"{secrets.randbelow(10**6):06d}"
    return code, make_password(code)


def phone_code_matches(code: str, hashed: str) -> bool:
    return bool(code) and check_password(code.strip(), hashed)


def mark_phone_verified(user: User, phone: str) -> None:
    user.phone, user.phone_verified_at = phone, clock.now()
    User.objects.filter(pk=user.pk).update(phone=phone, phone_verified_at=user.phone_verified_at)
