"""`/digest/unsubscribe/<token>`: the digest's one-click unsubscribe (RFC 8058). Like the
customers' `/u/`, it needs no login, cookie or CSRF token: the signed token names the
membership, and a POST (the mail client's one click, or the button) turns the digest off."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from touchbase.digest.models import DigestFrequency
from touchbase.digest.sending import membership_from_token
from touchbase.digest.services import set_digest_frequency


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    membership = membership_from_token(token)
    if membership is None:
        return render(request, "inbound/not_found.html", status=404)
    done = request.method == "POST"
    if done:
        set_digest_frequency(membership=membership, frequency=DigestFrequency.OFF)
    response = render(request, "digest/unsubscribe.html", {"membership": membership, "done": done})
    response["Cache-Control"] = "no-store"
    return response
