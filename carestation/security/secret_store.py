"""Where the key-encryption key lives: the operating system's keyring, accepted only when it is a
real one (Windows Credential Locker, macOS Keychain, Secret Service, KWallet), otherwise a key
derived from a passphrase the administrator types at start. Never the database or a file."""

from __future__ import annotations

import base64
from typing import Protocol

from argon2.low_level import Type, hash_secret_raw

from carestation.domain.errors import CareStationError
from carestation.i18n import _

SERVICE = "CareStation"
# Module prefixes of the keyring backends that keep secrets properly.
TRUSTED_BACKENDS = (
    "keyring.backends.Windows",
    "keyring.backends.macOS",
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
)


class NoSecureKeyring(CareStationError):
    """Only an unsafe keyring (or none) is available: use a passphrase instead."""


class SecretStore(Protocol):
    def get(self, name: str) -> bytes | None: ...
    def set(self, name: str, value: bytes) -> None: ...
    def delete(self, name: str) -> None: ...


def backend_is_trusted(backend: object) -> bool:
    """True for a real OS keyring; False for the fail backend, keyrings.alt's plaintext files,
    and anything unknown. A chainer is trusted only if every backend it chains is."""
    inner = getattr(backend, "backends", None)
    if inner is not None:
        return bool(inner) and all(backend_is_trusted(b) for b in inner)
    module = type(backend).__module__
    return module.startswith(TRUSTED_BACKENDS)


class KeyringSecretStore:
    """Secrets in the OS keyring, base64-encoded (keyring stores text)."""

    def __init__(self, keyring_module: object | None = None) -> None:
        if keyring_module is None:
            import keyring as keyring_module  # type: ignore[no-redef]
        self._keyring = keyring_module
        backend = keyring_module.get_keyring()  # type: ignore[attr-defined]
        if not backend_is_trusted(backend):
            raise NoSecureKeyring(
                _(
                    "This PC has no secure key store (found: {backend}). Protected data will be "
                    "opened with a passphrase instead."
                ).format(backend=type(backend).__name__)
            )

    def get(self, name: str) -> bytes | None:
        value = self._keyring.get_password(SERVICE, name)  # type: ignore[attr-defined]
        return None if value is None else base64.b64decode(value)

    def set(self, name: str, value: bytes) -> None:
        self._keyring.set_password(SERVICE, name, base64.b64encode(value).decode("ascii"))  # type: ignore[attr-defined]

    def delete(self, name: str) -> None:
        self._keyring.delete_password(SERVICE, name)  # type: ignore[attr-defined]


class MemorySecretStore:
    """For tests, and for a passphrase-derived key held only while the app runs."""

    def __init__(self, values: dict[str, bytes] | None = None) -> None:
        self._values = dict(values or {})

    def get(self, name: str) -> bytes | None:
        return self._values.get(name)

    def set(self, name: str, value: bytes) -> None:
        self._values[name] = value

    def delete(self, name: str) -> None:
        self._values.pop(name, None)


PASSPHRASE_MIN = 12


def key_from_passphrase(passphrase: str, salt: bytes) -> bytes:
    """A 32-byte key-encryption key from the administrator's passphrase (argon2id, 64 MiB)."""
    if len(passphrase) < PASSPHRASE_MIN:
        raise ValueError(f"passphrases have at least {PASSPHRASE_MIN} characters")
    if len(salt) < 16:
        raise ValueError("the salt has at least 16 random bytes")
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=3,
        memory_cost=64 * 1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )


def open_os_store() -> KeyringSecretStore | None:
    """This PC's trusted keyring, or None when it has none (then a passphrase is used).
    Tests replace this function so they never touch a real keychain."""
    try:
        return KeyringSecretStore()
    except NoSecureKeyring:
        return None
    except Exception:  # a broken keyring backend is the same as none
        return None
