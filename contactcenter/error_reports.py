"""What Django's debug error pages may show of the settings."""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

# The password of a URL such as postgres://user:password@db:5432/cc or redis://:password@redis.
URL_PASSWORD = re.compile(r"(?P<start>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)


class ServicePasswordsFilter(SafeExceptionReporterFilter):
    """Django's filter, which hides settings named like secrets, also hiding the passwords in
    service URLs under any name: DATABASE_URL, REDIS_URL, the caches' LOCATION and the channel
    layers' hosts."""

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        # str() also reads lazy strings (translated defaults of apps' settings).
        if isinstance(cleansed, str) and URL_PASSWORD.search(str(cleansed)):
            return URL_PASSWORD.sub(rf"\g<start>{self.cleansed_substitute}@", str(cleansed))
        return cleansed
