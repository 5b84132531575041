"""The key-encryption key's companions: a check value that recognises the right key without
revealing it, the recovery code an administrator writes down, and keys derived for other uses."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carestation.domain.errors import CareStationError
from carestation.i18n import _
from carestation.security.crypto import KEY_BYTES

_CHECK_LABEL = b"carestation|kek-check|v1"
_CODE_CHECK_BYTES = 2
GROUP = 5


class BadRecoveryCode(CareStationError):
    pass


def check_value(kek: bytes) -> str:
    """A keyed fingerprint of the key: stored in the database to tell a right key from a wrong one.
    It is an HMAC, so it does not help anyone find the key."""
    return hmac.new(kek, _CHECK_LABEL, hashlib.sha256).hexdigest()


def matches(kek: bytes, stored_check: str) -> bool:
    # Compared as bytes: a damaged stored value (any text at all) is simply not a match.
    return hmac.compare_digest(check_value(kek).encode(), stored_check.encode("utf-8", "replace"))


def derive(kek: bytes, purpose: str) -> bytes:
    """A separate 32-byte key for `purpose` (e.g. the audit chain), so no key serves two uses."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(kek)


def recovery_code(kek: bytes) -> str:
    """The key as 11 groups of 5 letters and digits, with a check so a typo is caught."""
    if len(kek) != KEY_BYTES:
        raise ValueError("keys are 32 bytes")
    payload = kek + hashlib.sha256(kek).digest()[:_CODE_CHECK_BYTES]
    text = base64.b32encode(payload).decode("ascii").rstrip("=")
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def key_from_recovery_code(code: str) -> bytes:
    text = "".join(ch for ch in code.upper() if ch.isalnum())
    # Letters people confuse with digits base32 does not use.
    text = text.translate(str.maketrans({"0": "O", "1": "I", "8": "B"}))
    wrong = _(
        "That recovery code is not right: check each group of five characters against the paper "
        "copy and type it again."
    )
    padded = text + "=" * (-len(text) % 8)
    try:
        payload = base64.b32decode(padded)
    except ValueError as exc:
        raise BadRecoveryCode(wrong) from exc
    if len(payload) != KEY_BYTES + _CODE_CHECK_BYTES:
        raise BadRecoveryCode(wrong)
    kek, check = payload[:KEY_BYTES], payload[KEY_BYTES:]
    if hashlib.sha256(kek).digest()[:_CODE_CHECK_BYTES] != check:
        raise BadRecoveryCode(wrong)
    return kek
