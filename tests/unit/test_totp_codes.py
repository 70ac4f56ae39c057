"""Which codes a TOTP secret accepts at a given time: its own 30 s step and one either side."""

import pyotp
import pytest

from aict.auth.totp import matching_step, new_secret

NOW = 1_800_000_015.0  # 15 s into step 60,000,000


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_current_step_and_its_neighbours_are_accepted(secret, offset):
    step = int(NOW // 30) + offset
    assert matching_step(secret, pyotp.TOTP(secret).generate_otp(step), NOW) == step


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_further_away_are_refused(secret, offset):
    code = pyotp.TOTP(secret).generate_otp(int(NOW // 30) + offset)
    near = {pyotp.TOTP(secret).generate_otp(int(NOW // 30) + o) for o in (-1, 0, 1)}
    assert matching_step(secret, code, NOW) is None or code in near  # a 1-in-10^6 collision is not a bug


@pytest.mark.parametrize("otp", [None, "", 123456, "12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345", b"123456"])
def test_anything_but_six_ascii_digits_is_refused(secret, otp):
    assert matching_step(secret, otp, NOW) is None


def test_a_code_typed_as_the_app_shows_it_with_a_space_is_accepted(secret):
    code = pyotp.TOTP(secret).generate_otp(int(NOW // 30))
    for typed in (f"{code[:3]} {code[3:]}", f" {code} ", f"{code[:3]}\u00a0{code[3:]}"):
        assert matching_step(secret, typed, NOW) == int(NOW // 30), typed


def test_a_new_secret_has_160_bits():
    import base64

    assert len(base64.b32decode(new_secret())) == 20
