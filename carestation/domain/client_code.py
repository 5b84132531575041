"""Pseudonymous client codes: random, never derived from personal data, easy to read aloud."""

from __future__ import annotations

import random
import secrets

# Crockford's base32 without I, L, O, U: nothing to confuse when read over the phone.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 8


def _check_char(body: str) -> str:
    """Luhn mod N check character: catches every single mistyped character."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_client_code(rng: random.Random | None = None) -> str:
    """A code such as 'K7QM-3XTD-R': 8 random characters (40 bits) and a check character.

    Production passes no `rng` (the OS's CSPRNG); the demo generator passes a seeded one.
    """
    choice = (rng or secrets.SystemRandom()).choice
    body = "".join(choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{body[:4]}-{body[4:]}-{_check_char(body)}"


def normalise_client_code(text: str) -> str | None:
    """The canonical form of a typed code, or None when it is not a valid code."""
    raw = text.strip().upper().replace("-", "").replace(" ", "")
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != BODY_LENGTH + 1 or any(ch not in ALPHABET for ch in raw):
        return None
    body, check = raw[:BODY_LENGTH], raw[BODY_LENGTH]
    if _check_char(body) != check:  # includes a typo in the check character itself
        return None
    return f"{body[:4]}-{body[4:]}-{check}"
