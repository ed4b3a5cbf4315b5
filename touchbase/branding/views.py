"""The logo, served from the database as the PNG we encoded: public (customers see it on
the links' pages), immutable under its hash, never sniffed as anything but an image."""

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from touchbase.branding.models import BusinessBrand


@require_safe
def logo(request: HttpRequest, slug: str, digest: str) -> HttpResponse:
    brand = (
        BusinessBrand.objects.filter(business__slug=slug, logo_hash=digest).only("logo_png").first()
    )
    if brand is None or not brand.logo_png:
        raise Http404("no such logo")
    response = HttpResponse(bytes(brand.logo_png), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Content-Disposition"] = 'inline; filename="logo.png"'
    return response


@require_safe
def colour_css(request: HttpRequest, hex_digits: str) -> HttpResponse:
    """The brand colour as a stylesheet, so customer pages need no inline style (CSP)."""
    if not re.fullmatch(r"[0-9a-f]{6}", hex_digits):
        raise Http404("no such colour")
    response = HttpResponse(f":root {{ --brand: #{hex_digits}; }}\n", content_type="text/css")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
