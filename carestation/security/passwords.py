"""argon2id password hashing (OWASP parameters), with a dummy check so unknown users cost the same."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP 2023 minimum for argon2id is m=19 MiB, t=2, p=1; we use a little more memory.
TIME_COST = 2
MEMORY_COST_KIB = 32 * 1024
PARALLELISM = 1
_HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a real password: equalises timing for unknown users")


def burn_equal_time(password: str) -> None:
    """Spend the time a real verification takes, so response time does not reveal who exists."""
    verify_password(_dummy_hash(), password)
