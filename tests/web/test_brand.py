"""Issue 13, problem 9: customer-facing pages carry the business's name, logo and colour;
the logo is uploaded in settings and stored safely (decoded and re-encoded, never served as
uploaded)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.inbound.conftest import send_first_touch
from touchbase.branding.models import BusinessBrand
from touchbase.inbound.links import make_token

pytestmark = pytest.mark.django_db


def png(width=600, height=200, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def test_the_customer_pages_show_the_logo_colour_and_name(client, owner_of, mine, clock):
    owner = owner_of(mine.business)
    response = owner.post(
        "/settings/brand/",
        {"colour": "#0B6E4F", "logo": SimpleUploadedFile("logo.png", png(), "image/png")},
    )
    assert response.status_code == 302
    sent = send_first_touch(mine.business)
    client.logout()

    page = client.get(f"/f/{make_token(sent.delivery.pk, 'feedback')}").content.decode()

    brand = BusinessBrand.objects.get(business=mine.business)
    assert f'/brand/{mine.business.slug}/logo-{brand.logo_hash}.png" alt="Bright Air"' in page
    assert "/brand/colour-0b6e4f.css" in page
    assert "Bright Air" in page.split("<footer>")[1]
    logo = client.get(f"/brand/{mine.business.slug}/logo-{brand.logo_hash}.png")
    assert logo["Content-Type"] == "image/png" and logo["X-Content-Type-Options"] == "nosniff"
    stored = Image.open(io.BytesIO(logo.content))
    assert stored.format == "PNG" and stored.size == (480, 160)  # re-encoded, fitted
    assert client.get("/brand/colour-0b6e4f.css").content.decode().strip() == (
        ":root { --brand: #0b6e4f; }"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.png", b"<html><script>alert(1)</script></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ],
)
def test_a_file_that_is_not_a_raster_image_is_refused_beside_the_field(
    owner_of, mine, name, content
):
    owner = owner_of(mine.business)

    response = owner.post(
        "/settings/brand/", {"colour": "#0b6e4f", "logo": SimpleUploadedFile(name, content)}
    )

    assert response.status_code == 200
    assert "is not an image we can read" in " ".join(response.context["form"].errors["logo"])
    assert not BusinessBrand.objects.filter(business=mine.business).exists()


def test_a_colour_too_light_for_white_text_is_refused_and_what_was_typed_stays(owner_of, mine):
    owner = owner_of(mine.business)

    response = owner.post("/settings/brand/", {"colour": "#ffee00"})

    assert "too light for white text" in " ".join(response.context["form"].errors["colour"])
    assert 'value="#ffee00"' in response.content.decode()


def test_the_unsubscribe_page_is_branded_even_without_a_brand_set(client, mine, clock):
    sent = send_first_touch(mine.business)

    page = client.get(f"/u/{make_token(sent.delivery.pk, 'unsubscribe')}").content.decode()

    assert '<span class="brand-name">Bright Air</span>' in page
    assert "/brand/colour-1f5fbf.css" in page
    assert "<style>" not in page and "<script" not in page
