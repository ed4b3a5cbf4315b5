"""Settings → Brand: the logo and colour customers see on the pages their links open."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from touchbase.branding.services import MAX_UPLOAD_BYTES, brand_of, set_brand
from touchbase.web.current import owner_view
from touchbase.web.forms import show_errors

ACCEPT = "image/png,image/jpeg,image/webp,image/gif"


class BrandForm(forms.Form):
    colour = forms.CharField(
        label="Brand colour",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="Buttons and headings on your customers' pages; dark enough for white text.",
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}
        ),
        help_text=f"PNG, JPEG, WebP or GIF, up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
        "Shown at most 240 x 80 pixels.",
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)


@owner_view
def brand_settings(request: HttpRequest) -> HttpResponse:
    business = request.business
    brand = brand_of(business)
    form = BrandForm(request.POST or None, request.FILES or None, initial={"colour": brand.colour})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            set_brand(
                business=business,
                colour=data["colour"],
                logo=data["logo"] or None,
                remove_logo=data["remove_logo"],
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "Brand saved: your customers' pages now show it.")
            return redirect("web:brand")
    return render(
        request,
        "web/settings/brand.html",
        {"form": form, "brand": brand, "nav": "settings"},
    )
