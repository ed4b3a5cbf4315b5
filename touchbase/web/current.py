"""The business a request acts for: always one of the logged-in user's memberships.

The choice lives in the session (the business switcher changes it); a stale or forged id
falls back to the user's first business, so a request never reaches another tenant.
"""

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from touchbase.tenancy.models import Business, Membership

SESSION_KEY = "touchbase_business_id"


def businesses_of(user) -> list[Business]:
    if not user.is_authenticated:
        return []
    return list(Business.objects.filter(memberships__user=user).order_by("name", "pk"))


def current_business(request: HttpRequest) -> Business | None:
    if not hasattr(request, "_touchbase_business"):
        businesses = businesses_of(request.user)
        chosen = request.session.get(SESSION_KEY)
        business = next((b for b in businesses if b.pk == chosen), None)
        if business is None and businesses:
            business = businesses[0]
        request._touchbase_business = business
        request._touchbase_businesses = businesses
    return request._touchbase_business


def switch_business(request: HttpRequest, business_id: int) -> Business | None:
    """Make `business_id` the current business if the user belongs to it."""
    business = next((b for b in businesses_of(request.user) if b.pk == business_id), None)
    if business is not None:
        request.session[SESSION_KEY] = business.pk
        request._touchbase_business = business
    return business


def business_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; `request.business` is the current business. A user without any
    business (e.g. their last one was deleted) is sent to create one."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        business = current_business(request)
        if business is None:
            return redirect("web:business_new")
        request.business = business
        # Times on the owner's pages read in the business's own time zone.
        with timezone.override(ZoneInfo(business.time_zone)):
            return view(request, *args, **kwargs)

    return wrapper


def is_owner(request: HttpRequest) -> bool:
    """Whether the user owns the current business (cached on the request)."""
    if not hasattr(request, "_touchbase_is_owner"):
        business = current_business(request)
        request._touchbase_is_owner = (
            business is not None
            and Membership.objects.filter(
                business=business, user=request.user, role=Membership.Role.OWNER
            ).exists()
        )
    return request._touchbase_is_owner


def owner_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A business view only owners may open: settings, sender identity, API keys, webhooks,
    team. Staff (who run jobs, customers and campaigns) get a 403 that says why."""

    @business_view
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_owner(request):
            return render(request, "web/account/owners_only.html", {"nav": "settings"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper
