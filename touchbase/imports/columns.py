"""The columns an import reads, each with the header names other tools export it under
(matched ignoring case, spaces, underscores, hyphens and dots: `touchbase.imports.reading`)."""

CUSTOMER_COLUMNS = {
    "name": ["full name", "customer name", "customer", "client name", "client", "contact name"],
    "first_name": ["first name", "firstname", "given name", "first"],
    "last_name": ["last name", "lastname", "surname", "family name", "last"],
    "email": ["e-mail", "email address", "customer email", "client email", "mail"],
    "phone": [
        "phone number",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "telephone",
        "tel",
        "customer phone",
        "client phone",
    ],
    "time_zone": ["timezone", "tz"],
    "language": ["lang", "preferred language", "idioma"],
    "sms_consent": ["sms opt in", "sms optin", "text consent", "sms ok", "consent"],
}
JOB_COLUMNS = {
    **CUSTOMER_COLUMNS,
    "external_id": [
        "job id",
        "job number",
        "job no",
        "job #",
        "id",
        "work order",
        "invoice",
        "invoice number",
        "reference",
    ],
    "service_type": ["service", "job type", "category", "trade", "type"],
    "status": ["job status", "state"],
    "completed_at": [
        "completed",
        "completed on",
        "completion date",
        "completed date",
        "date completed",
        "finished at",
        "date",
    ],
    "technician_name": ["technician", "tech", "assigned to", "employee"],
    "notes": ["note", "description", "comments", "job notes"],
}
