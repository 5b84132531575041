"""Envelope encryption for confidential text: AES-256-GCM under a per-client data key, the data
key stored only wrapped (AES key wrap) by a key-encryption key that never enters the database.

Each ciphertext is bound to where it belongs (table, column, row id, key version) through the
associated data, so a ciphertext copied to another row, or a flipped byte, fails to decrypt
instead of showing garbage.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from carestation.domain.errors import CareStationError
from carestation.i18n import _

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = b"\x01"  # first byte of every ciphertext: lets a later format be told apart


class WrongKey(CareStationError):
    """The key-encryption key does not open this data key (another PC's, or a wrong passphrase)."""


class TamperedCiphertext(CareStationError):
    """The text was changed, or moved from where it was written."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def wrap(kek: bytes, data_key: bytes) -> bytes:
    _check_key(kek)
    _check_key(data_key)
    return aes_key_wrap(kek, data_key)


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    _check_key(kek)
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError) as exc:
        raise WrongKey(
            _(
                "This PC's key cannot open the protected data. Restore the key from its recovery "
                "code, or use the PC the data was written on."
            )
        ) from exc


def associated_data(*, table: str, column: str, row_id: int, key_version: int) -> bytes:
    return f"carestation|{table}|{column}|{row_id}|{key_version}".encode()


def encrypt(
    data_key: bytes, plaintext: str, *, table: str, column: str, row_id: int, key_version: int
) -> bytes:
    _check_key(data_key)
    nonce = os.urandom(NONCE_BYTES)  # random per value: never reuse a nonce under one key
    aad = associated_data(table=table, column=column, row_id=row_id, key_version=key_version)
    return FORMAT + nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode("utf-8"), aad)


def decrypt(
    data_key: bytes, blob: bytes, *, table: str, column: str, row_id: int, key_version: int
) -> str:
    _check_key(data_key)
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT:
        raise TamperedCiphertext(_("A protected text is damaged and cannot be read."))
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    aad = associated_data(table=table, column=column, row_id=row_id, key_version=key_version)
    try:
        return AESGCM(data_key).decrypt(nonce, body, aad).decode("utf-8")
    except InvalidTag as exc:
        raise TamperedCiphertext(
            _(
                "A protected text failed its integrity check: it was changed or moved. Nothing was "
                "shown; the event is in the audit trail."
            )
        ) from exc


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError("keys are 32 random bytes")
