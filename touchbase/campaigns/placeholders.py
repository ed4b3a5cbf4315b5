"""The placeholders a message template may use, and the check that refuses any other.

Templates use `{name}` fields. Only the plain names below are allowed: no attribute access,
no indexing, no conversions or format specs, so a template can never reach into an object.
"""

import string

PLACEHOLDERS: dict[str, str] = {
    "customer_first_name": "The customer's first name",
    "customer_name": "The customer's full name",
    "business_name": "Your business's name",
    "review_link": "The tracked link to your review page",
    "service_type": "The service performed, e.g. HVAC",
    "technician_name": "The technician who did the job",
    "sender_name": "Who signs the message",
}


class TemplateSyntaxProblem(ValueError):
    pass


def placeholders_in(text: str) -> list[str]:
    """The placeholder fields of `text`, in order. Raises TemplateSyntaxProblem for a field
    that is not a plain name (e.g. `{a.b}`, `{a!r}`, `{a:>10}`) or an unbalanced brace."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateSyntaxProblem(f"{exc}; write {{{{ or }}}} for a literal brace") from None
    fields = []
    for _literal, field, format_spec, conversion in parsed:
        if field is None:
            continue
        if format_spec or conversion or not field.isidentifier():
            raise TemplateSyntaxProblem(
                f"{{{field}{'!' + conversion if conversion else ''}"
                f"{':' + format_spec if format_spec else ''}}} is not a plain placeholder"
            )
        fields.append(field)
    return fields


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in placeholders_in(text) if name not in PLACEHOLDERS]


def valid_placeholder_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def render(text: str, values: dict[str, str]) -> str:
    """Fill a template already validated by `placeholders_in`."""
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})
