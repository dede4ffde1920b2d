"""The pseudonymous person key (DOMAIN.md): an HMAC, under a server secret kept apart from SECRET_KEY, of the
normalised identity document, so that the same person referred by two institutions is recognised without
either seeing the other's data.

TODO(integration): records/services.py (branch wt-records) owns the canonical function; when it lands, this
module should re-export it so both write paths produce identical keys.
"""

import hashlib
import hmac
import re

from django.conf import settings

from .columns import normalise


def normalise_document(document_type: str, document_number: str) -> str:
    number = re.sub(r"[^0-9a-z]", "", normalise(document_number or ""))
    return f"{document_type or ''}:{number.upper()}" if number else ""


def person_key(*, document_type: str, document_number: str) -> str:
    """Hex HMAC-SHA256 of the normalised document; empty when there is no document number."""
    normalised = normalise_document(document_type, document_number)
    if not normalised:
        return ""
    return hmac.new(settings.PERSON_KEY_SECRET.encode(), normalised.encode(), hashlib.sha256).hexdigest()
