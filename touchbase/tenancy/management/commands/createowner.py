"""`touchbase createowner`: the install's first owner (and their business), made at the
server, since sign-up is closed by default."""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from touchbase.tenancy.services import create_owner


class Command(BaseCommand):
    help = "Create an owner login and their business (verified; --operator opens /admin/)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--business", required=True, help="the business's name")
        parser.add_argument(
            "--operator", action="store_true", help="also staff and superuser (Django admin)"
        )
        parser.add_argument(
            "--password-env",
            metavar="NAME",
            help="read the password from this environment variable (else it is asked for)",
        )

    def handle(self, *args, email, business, operator, password_env, **options):
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"{password_env} is empty or not set")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            result = create_owner(
                email=email, password=password, business_name=business, operator=operator
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from None
        self.stdout.write(
            f"Owner {result.user.email} of {result.business.name} created; log in at "
            "/accounts/login/."
        )
