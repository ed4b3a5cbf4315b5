"""Setting a business's brand: a colour that keeps white text readable, and a logo decoded
and re-encoded by Pillow (nothing the owner uploaded is stored or served as it came)."""

import hashlib
import io
import re

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

from touchbase.branding.models import BusinessBrand
from touchbase.tenancy.models import Business

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_SOURCE_PIXELS = 16_000_000  # a decompression bomb is refused before it is decoded
LOGO_BOX = (480, 160)
ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
MIN_CONTRAST = 4.5  # WCAG AA for white text on the brand colour
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (_luminance(hex_colour) + 0.05)


def clean_colour(raw: str) -> str:
    match = _HEX.match((raw or "").strip())
    if not match:
        raise ValidationError({"colour": "must be a colour such as #1f5fbf"})
    colour = f"#{match.group(1).lower()}"
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            {
                "colour": f"{colour} is too light for white text on buttons (contrast "
                f"{ratio:.1f}:1, at least {MIN_CONTRAST}:1 is needed); pick a darker shade"
            }
        )
    return colour


def _logo_png(upload) -> tuple[bytes, int, int]:
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"logo": "is larger than 2 MB"})
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ACCEPTED_FORMATS:
                raise ValidationError({"logo": "must be a PNG, JPEG, WebP or GIF image"})
            if probe.width * probe.height > MAX_SOURCE_PIXELS:
                raise ValidationError({"logo": "has too many pixels (16 megapixels at most)"})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = image.convert("RGBA")
            image.thumbnail(LOGO_BOX)
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue(), image.width, image.height
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {"logo": "is not an image we can read (PNG, JPEG, WebP or GIF)"}
        ) from None


def brand_of(business: Business) -> BusinessBrand:
    """The business's brand, or the default look (unsaved) when it never set one."""
    return BusinessBrand.objects.filter(business=business).first() or BusinessBrand(
        business=business
    )


def set_brand(
    *, business: Business, colour: str, logo=None, remove_logo: bool = False
) -> BusinessBrand:
    """Save the colour and, when given, a new logo; on any error nothing changes."""
    errors: dict[str, str] = {}
    try:
        colour = clean_colour(colour)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    png = None
    if logo is not None:
        try:
            png = _logo_png(logo)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    brand = brand_of(business)
    brand.colour = colour
    if png is not None:
        brand.logo_png, brand.logo_width, brand.logo_height = png
        brand.logo_hash = hashlib.sha256(png[0]).hexdigest()[:16]
    elif remove_logo:
        brand.logo_png, brand.logo_hash, brand.logo_width, brand.logo_height = b"", "", 0, 0
    brand.save()
    return brand
