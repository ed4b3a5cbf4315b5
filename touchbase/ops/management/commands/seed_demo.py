from django.core.management.base import BaseCommand

from touchbase.ops.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo business, its login, customers, campaigns and jobs (once)."

    def handle(self, *args, **options):
        login = seed_demo()
        verb = "Created" if login.created else "Found"
        self.stdout.write(f"{verb} the demo business. Log in as {login.email} / {login.password}")
