"""The dashboard: this week's numbers, what goes out next, what needs the owner."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from touchbase.web import selectors
from touchbase.web.current import business_view


@business_view
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/dashboard.html",
        {"dash": selectors.dashboard(request.business), "nav": "dashboard"},
    )
