"""One-time screening codes: 9 random characters and a check character, from an alphabet with no
look-alikes, printed as K7QF-3MXA-PW and read back however the person typed them.

The alphabet has 31 characters (2-9 and A-Z without I, L and O; 0 and 1 never occur), and 31 is
prime, so the check character (position-weighted sum modulo 31, weights 1 to 10) catches every
single mistyped character and every swap of two different characters, adjacent or not.
"""

from __future__ import annotations

import secrets
import unicodedata

from carestation.domain.errors import ValidationError
from carestation.i18n import _

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PAYLOAD_LENGTH = 9
CODE_LENGTH = PAYLOAD_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_MODULUS = len(ALPHABET)  # 31, prime
assert _MODULUS == 31


def _weighted_sum(values: list[int]) -> int:
    return sum((i + 1) * v for i, v in enumerate(values)) % _MODULUS


def check_character(payload: str) -> str:
    """The character that makes the weighted sum of payload + it divisible by 31."""
    values = [_VALUE[ch] for ch in payload]
    # weight of the check character is CODE_LENGTH; solve 10 * c = -sum (mod 31).
    inverse = pow(CODE_LENGTH, -1, _MODULUS)
    return ALPHABET[(-_weighted_sum(values) * inverse) % _MODULUS]


def is_valid(code: str) -> bool:
    """Whether a normalised code has the right length, characters and check character."""
    if len(code) != CODE_LENGTH or any(ch not in _VALUE for ch in code):
        return False
    return _weighted_sum([_VALUE[ch] for ch in code]) == 0


def generate() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + check_character(payload)


def display(code: str) -> str:
    """K7QF3MXAPW -> K7QF-3MXA-PW."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise(typed: str) -> str:
    """What the person typed, as stored: full-width folded (NFKC), upper case, without spaces
    and dashes of any kind."""
    folded = unicodedata.normalize("NFKC", typed).upper()
    return "".join(
        ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Pd",)
    )


def parse(typed: str) -> str:
    """The stored form of a typed code; ValidationError({"code": ...}) saying what to check."""
    code = normalise(typed)
    if not code:
        raise ValidationError(
            {"code": _("Type the code printed on your slip, for example K7QF-3MXA-PW.")}
        )
    strange = sorted({ch for ch in code if ch not in _VALUE})
    if strange:
        if set(strange) <= set("01OIL"):
            message = _(
                "Codes never contain 0, 1, O, I or L. Check the code on your slip: it may be "
                "another letter or digit that looks alike."
            )
        else:
            message = _(
                "A code has only letters and digits, like K7QF-3MXA-PW. Check the code on your "
                "slip and type it again."
            )
        raise ValidationError({"code": message})
    if len(code) != CODE_LENGTH:
        raise ValidationError(
            {
                "code": _(
                    "A code has {length} letters and digits, you typed {typed}. Check the code "
                    "on your slip and type it again."
                ).format(length=CODE_LENGTH, typed=len(code))
            }
        )
    if not is_valid(code):
        raise ValidationError(
            {
                "code": _(
                    "This is not a valid code: a letter or digit seems to be mistyped. Check the "
                    "code on your slip and type it again."
                )
            }
        )
    return code
