"""Envelope encryption and the key store: round trips, tampering, wrong keys, unsafe keyrings."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carestation.security import crypto
from carestation.security.secret_store import (
    KeyringSecretStore,
    MemorySecretStore,
    NoSecureKeyring,
    backend_is_trusted,
    key_from_passphrase,
)

WHERE = {"table": "session_note", "column": "body", "row_id": 7, "key_version": 1}


def test_round_trip_with_a_wrapped_data_key() -> None:
    kek, data_key = crypto.new_key(), crypto.new_key()
    wrapped = crypto.wrap(kek, data_key)
    assert data_key not in wrapped
    blob = crypto.encrypt(data_key, "来访者诉工作压力大，睡眠差。", **WHERE)
    assert "睡眠".encode() not in blob
    assert (
        crypto.decrypt(crypto.unwrap(kek, wrapped), blob, **WHERE) == "来访者诉工作压力大，睡眠差。"
    )


def test_the_same_text_encrypts_differently_each_time() -> None:
    key = crypto.new_key()
    assert crypto.encrypt(key, "same", **WHERE) != crypto.encrypt(key, "same", **WHERE)


@pytest.mark.parametrize(
    "moved",
    [
        {**WHERE, "row_id": 8},
        {**WHERE, "table": "addendum"},
        {**WHERE, "column": "summary"},
        {**WHERE, "key_version": 2},
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(moved: dict) -> None:  # type: ignore[type-arg]
    key = crypto.new_key()
    blob = crypto.encrypt(key, "机密", **WHERE)
    with pytest.raises(crypto.TamperedCiphertext):
        crypto.decrypt(key, blob, **moved)


def test_every_flipped_byte_is_detected() -> None:
    key = crypto.new_key()
    blob = crypto.encrypt(key, "note text", **WHERE)
    for i in range(len(blob)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x01
        with pytest.raises(crypto.TamperedCiphertext):
            crypto.decrypt(key, bytes(damaged), **WHERE)
    with pytest.raises(crypto.TamperedCiphertext):
        crypto.decrypt(key, blob[:10], **WHERE)


def test_a_wrong_key_encryption_key_is_refused_not_guessed() -> None:
    wrapped = crypto.wrap(crypto.new_key(), crypto.new_key())
    with pytest.raises(crypto.WrongKey):
        crypto.unwrap(crypto.new_key(), wrapped)
    with pytest.raises(crypto.TamperedCiphertext):
        crypto.decrypt(crypto.new_key(), crypto.encrypt(crypto.new_key(), "x", **WHERE), **WHERE)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        crypto.encrypt(b"short", "x", **WHERE)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_round_trips(text: str) -> None:
    key = crypto.new_key()
    assert crypto.decrypt(key, crypto.encrypt(key, text, **WHERE), **WHERE) == text


# --- the key store --------------------------------------------------------------------------
def _backend(module: str) -> object:
    cls = type("Keyring", (), {})
    cls.__module__ = module
    return cls()


@pytest.mark.parametrize(
    ("module", "trusted"),
    [
        ("keyring.backends.Windows", True),
        ("keyring.backends.macOS", True),
        ("keyring.backends.SecretService", True),
        ("keyring.backends.kwallet", True),
        ("keyring.backends.fail", False),
        ("keyrings.alt.file", False),
        ("keyrings.alt.Gnome", False),
        ("some.third.party", False),
    ],
)
def test_only_real_keyrings_are_trusted(module: str, trusted: bool) -> None:
    assert backend_is_trusted(_backend(module)) is trusted


def test_a_chainer_is_trusted_only_when_all_it_chains_are() -> None:
    chainer = type("ChainerBackend", (), {})()
    chainer.backends = [_backend("keyring.backends.SecretService")]  # type: ignore[attr-defined]
    assert backend_is_trusted(chainer)
    chainer.backends.append(_backend("keyrings.alt.file"))  # type: ignore[attr-defined]
    assert not backend_is_trusted(chainer)
    chainer.backends = []  # type: ignore[attr-defined]
    assert not backend_is_trusted(chainer)


class _FakeKeyring:
    def __init__(self, module: str) -> None:
        self.backend = _backend(module)
        self.saved: dict[tuple[str, str], str] = {}

    def get_keyring(self) -> object:
        return self.backend

    def get_password(self, service: str, name: str) -> str | None:
        return self.saved.get((service, name))

    def set_password(self, service: str, name: str, value: str) -> None:
        self.saved[(service, name)] = value

    def delete_password(self, service: str, name: str) -> None:
        del self.saved[(service, name)]


def test_keyring_store_round_trip_and_refusal() -> None:
    fake = _FakeKeyring("keyring.backends.Windows")
    store = KeyringSecretStore(fake)
    key = os.urandom(32)
    store.set("kek", key)
    assert store.get("kek") == key
    assert key not in fake.saved[("CareStation", "kek")].encode()  # stored as text, not raw
    store.delete("kek")
    assert store.get("kek") is None
    with pytest.raises(NoSecureKeyring, match="passphrase"):
        KeyringSecretStore(_FakeKeyring("keyrings.alt.file"))


def test_memory_store() -> None:
    store = MemorySecretStore()
    store.set("a", b"1")
    assert store.get("a") == b"1"
    store.delete("a")
    store.delete("a")
    assert store.get("a") is None


def test_passphrase_keys_are_stable_salted_and_need_length() -> None:
    salt = os.urandom(16)
    first = key_from_passphrase("工会服务站 correct horse", salt)
    assert len(first) == 32
    assert key_from_passphrase("工会服务站 correct horse", salt) == first
    assert key_from_passphrase("工会服务站 correct horse", os.urandom(16)) != first
    with pytest.raises(ValueError, match="at least 12"):
        key_from_passphrase("short", salt)
