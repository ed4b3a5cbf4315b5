import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
application = get_wsgi_application()

# Any WSGI server that loads touchbase gets the production rule, not only `touchbase serve`.
from touchbase.ops.production import require_production_settings  # noqa: E402

require_production_settings()
