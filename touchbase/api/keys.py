"""Creating, checking and revoking API keys (the services behind the admin and the API)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError

from touchbase import clock
from touchbase.api.models import ApiKey
from touchbase.tenancy.models import Business

KEY_MARKER = "tb_"
PREFIX_LENGTH = 10  # "tb_" + 7 characters: enough to tell keys apart, useless to an attacker
# last_used_at is written at most this often per key: a busy integration must not turn
# every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    raw_key: str  # shown to the owner once; never stored


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(*, business: Business, name: str, created_by: str = "") -> NewApiKey:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "is required (say what will use this key)"})
    if len(name) > 100:
        raise ValidationError({"name": "is longer than 100 characters"})
    raw_key = KEY_MARKER + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        business=business,
        name=name,
        prefix=raw_key[:PREFIX_LENGTH],
        key_hash=hash_key(raw_key),
        created_by=created_by,
        created_at=clock.now(),
    )
    return NewApiKey(api_key=api_key, raw_key=raw_key)


def revoke_api_key(*, api_key: ApiKey) -> bool:
    """Revoke at once and for good. False when it already was revoked."""
    changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    api_key.refresh_from_db()
    return bool(changed)


def authenticate_key(raw_key: str) -> ApiKey | None:
    """The active key for `raw_key`, with its business, or None. Records when it was used."""
    if not raw_key.startswith(KEY_MARKER) or len(raw_key) > 200:
        return None
    api_key = (
        ApiKey.objects.select_related("business")
        .filter(key_hash=hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = clock.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
