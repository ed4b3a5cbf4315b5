"""Invitations: how a person joins a business.

1. An owner invites an address with a role; touchbase emails a signed link that expires
   (INVITATION_DAYS). Nothing is created for the address: holding an account with it gains
   nothing until the link is opened.
2. Only a person logged in with the invited address can accept (someone who has no account
   yet chooses a password on the link's page; that proves the address too).
3. An owner can revoke an open invitation (the link stops working) and remove members
   (never the business's last owner).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from touchbase import clock
from touchbase.tenancy.models import Business, Invitation, Membership, User
from touchbase.tenancy.throttles import INVITATIONS_PER_BUSINESS

INVITATION_DAYS = 7
_SALT = "touchbase.invitation"


def normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


def _valid_email(email: str, field: str = "email") -> str:
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({field: f"{email!r} is not a valid email address"}) from None
    return email


def invitation_link(invitation: Invitation) -> str:
    token = signing.dumps(invitation.pk, salt=_SALT)
    return settings.PUBLIC_BASE_URL + reverse("web:invitation", args=[token])


def open_invitation(token: str) -> Invitation | None:
    """The invitation a link names, if it is still open (signed by us, not expired, not
    accepted or revoked); else None."""
    try:
        pk = signing.loads(token, salt=_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.BadSignature:
        return None
    return (
        Invitation.objects.select_related("business")
        .filter(
            pk=pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=clock.now()
        )
        .first()
    )


def invite(
    *, business: Business, email: str, role: str = Membership.Role.STAFF, invited_by: User
) -> Invitation:
    """Email `email` a link to join `business` as `role`. Inviting an address again replaces
    its open invitation (the old link stops working). The answer is the same whether or not
    the address has a touchbase account."""
    email = _valid_email(email)
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"{role!r} is not one of: owner, staff"})
    if Membership.objects.filter(business=business, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {business.name}"})
    if not INVITATIONS_PER_BUSINESS.hit(str(business.pk)):
        raise ValidationError(
            {"email": f"{business.name} sent too many invitations today; try again tomorrow"}
        )
    now = clock.now()
    with transaction.atomic():
        _open(business).filter(email=email).update(revoked_at=now)
        invitation = Invitation.objects.create(
            business=business,
            email=email,
            role=role,
            invited_by=invited_by,
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
    context = {
        "business_name": business.name,
        "inviter": invited_by.email,
        "link": invitation_link(invitation),
        "days": INVITATION_DAYS,
    }
    send_mail(
        subject=f"You're invited to {business.name} on touchbase",
        message=render_to_string("web/account/invitation_email.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    return invitation


def _open(business: Business):
    return Invitation.objects.filter(
        business=business,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    )


def open_invitations(business: Business):
    return _open(business).order_by("email")


def accept(*, invitation: Invitation, user: User) -> Membership:
    """`user` joins the business, if they are logged in with the invited address."""
    if normalize_email(user.email) != invitation.email:
        raise ValidationError(
            {"email": f"this invitation is for {invitation.email}; log in with that address"}
        )
    now = clock.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=now)
        if not claimed:
            raise ValidationError({"invitation": "this invitation was already used or revoked"})
        membership, _ = Membership.objects.get_or_create(
            user=user, business=invitation.business, defaults={"role": invitation.role}
        )
        if user.email_verified_at is None:  # the link reached the address
            User.objects.filter(pk=user.pk).update(email_verified_at=now)
            user.email_verified_at = now
    return membership


def accept_as_new_person(*, invitation: Invitation, password: str) -> User:
    """Someone without an account: the invited address gets one, with `password`."""
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(
            {"password": f"log in as {invitation.email} to accept this invitation"}
        )
    try:
        validate_password(password or "", User(email=invitation.email))
    except ValidationError as exc:
        raise ValidationError({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        user = User.objects.create_user(invitation.email, password)
        accept(invitation=invitation, user=user)
    return user


def revoke(*, business: Business, invitation_id: int) -> Invitation:
    invitation = _open(business).filter(pk=invitation_id).first()
    if invitation is None:
        raise ValidationError({"invitation": "no open invitation with this id"})
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=clock.now())
    return invitation


def remove_member(*, business: Business, membership_id: int) -> Membership:
    """Take a person's access to `business` away at once; the last owner stays."""
    with transaction.atomic():
        owners = list(
            Membership.objects.select_for_update()
            .filter(business=business, role=Membership.Role.OWNER)
            .values_list("pk", flat=True)
        )
        membership = (
            Membership.objects.select_related("user")
            .filter(business=business, pk=membership_id)
            .first()
        )
        if membership is None:
            raise ValidationError({"member": "no member with this id"})
        if owners == [membership.pk]:
            raise ValidationError({"member": f"{business.name} needs at least one owner"})
        membership.delete()
    return membership
