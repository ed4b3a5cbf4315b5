from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from touchbase.web.selectors import business_overview, businesses_of


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for process supervisors: the app answers and its database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    businesses = businesses_of(request.user)
    overviews = [business_overview(business) for business in businesses]
    return render(request, "web/home.html", {"overviews": overviews})
