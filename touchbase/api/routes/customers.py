from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Status

from touchbase.api.auth import business_of
from touchbase.api.errors import not_found
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    ErrorOut,
    Id,
    Text,
)
from touchbase.customers.models import ConsentSource, Customer
from touchbase.customers.services import (
    create_customer,
    normalize_email,
    normalize_phone,
    update_customer,
)

router = Router(tags=["customers"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = Customer.objects.filter(business=business_of(request), pk=customer_id).first()
    if customer is None:
        raise not_found("customer")
    return customer


@router.post("/customers", response={201: CustomerOut, **ERRORS})
def create(request: HttpRequest, payload: CustomerIn):
    """Create a customer. Phone numbers are stored in E.164 (US numbers may omit +1)."""
    customer = create_customer(
        business=business_of(request),
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        time_zone=payload.time_zone,
        language=payload.language,
        sms_consent=payload.sms_consent,
        consent_source=ConsentSource.API,
        consent_disclosure=payload.consent_disclosure,
        recorded_by=f"api key {request.auth.prefix}",
    )
    return Status(201, customer)


@router.get("/customers", response={200: CustomerPage, **ERRORS})
def list_customers(
    request: HttpRequest,
    email: Text(254) | None = None,
    phone: Text(40) | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    """List customers, newest first; search by email and/or phone."""
    customers = Customer.objects.filter(business=business_of(request))
    errors = {}
    if email:
        try:
            customers = customers.filter(email=normalize_email(email))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if phone:
        try:
            customers = customers.filter(phone=normalize_phone(phone))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return paginate(customers, cursor=cursor, limit=limit)


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def read(request: HttpRequest, customer_id: Id):
    return get_customer(request, customer_id)


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def update(request: HttpRequest, customer_id: Id, payload: CustomerPatch):
    """Change the fields given. A new phone number resets SMS consent (it belongs to a number)."""
    customer = get_customer(request, customer_id)
    changes = payload.dict(exclude_unset=True)
    for name, value in list(changes.items()):
        if value is None:
            changes[name] = ""
    if changes:
        update_customer(customer=customer, **changes)
    return customer
