"""The signing key: a bad ``MHFA_SIGNING_KEY`` stops the app at start with a clear message (and never echoes
the secret); the instance key file is made once, complete, mode 600, even when workers start together."""
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mhfa import create_app
from mhfa.certificates import signing


def _app(tmp_path, **config):
    return create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite", **config})


def test_a_malformed_key_in_the_environment_stops_the_app_at_start_without_echoing_it(tmp_path):
    secret = "z3u2NotReallyAKeyButSecretLooking"
    with pytest.raises(RuntimeError, match="MHFA_SIGNING_KEY is not an Ed25519 private key") as refused:
        _app(tmp_path, MHFA_SIGNING_KEY=secret)
    assert secret not in str(refused.value)
    assert not (tmp_path / "signing-key").exists()


def test_a_corrupt_instance_key_file_stops_the_app_naming_the_file(tmp_path):
    (tmp_path / "signing-key").write_text("garbage\n")
    with pytest.raises(RuntimeError, match="signing-key is not an Ed25519 private key"):
        _app(tmp_path)


def test_a_good_key_starts(tmp_path):
    key = signing.private_multikey(Ed25519PrivateKey.generate())
    assert _app(tmp_path, MHFA_SIGNING_KEY=key).extensions is not None
    assert _app(tmp_path / "empty").extensions is not None  # no key yet: made on first use


class _OtherWorkerWinsTheRace:
    """Ed25519PrivateKey, but another worker writes its key file just as this one generates its own."""

    def __init__(self, path, theirs):
        self.path, self.theirs = path, theirs

    def generate(self):
        self.path.write_text(signing.private_multikey(self.theirs) + "\n")
        return Ed25519PrivateKey.generate()

    def from_private_bytes(self, data):
        return Ed25519PrivateKey.from_private_bytes(data)


def test_workers_starting_together_share_the_one_key_file(tmp_path, monkeypatch):
    theirs = Ed25519PrivateKey.generate()
    monkeypatch.setattr(signing, "Ed25519PrivateKey", _OtherWorkerWinsTheRace(tmp_path / "signing-key", theirs))
    mine = signing.load_or_create_key(str(tmp_path), env_value="")
    assert signing.private_multikey(mine) == signing.private_multikey(theirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing-key"]


def test_a_new_key_file_is_private_and_complete(tmp_path):
    key = signing.load_or_create_key(str(tmp_path), env_value="")
    path = tmp_path / "signing-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert signing.parse_private_key(path.read_text()).private_bytes_raw() == key.private_bytes_raw()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing-key"]


def test_a_key_file_others_can_read_is_reported(tmp_path):
    signing.load_or_create_key(str(tmp_path), env_value="")
    os.chmod(tmp_path / "signing-key", 0o644)
    assert "chmod 600" in signing.check_configured_key(str(tmp_path), "")
    os.chmod(tmp_path / "signing-key", 0o600)
    assert signing.check_configured_key(str(tmp_path), "") is None


def test_a_malformed_verification_rate_limit_stops_the_app_rather_than_switching_the_limit_off(tmp_path):
    with pytest.raises(RuntimeError, match="MHFA_VERIFY_RATE_LIMIT is not a rate limit: '3 per minit'"):
        _app(tmp_path, MHFA_VERIFY_RATE_LIMIT="3 per minit")
    assert _app(tmp_path, MHFA_VERIFY_RATE_LIMIT="3 per minute; 10/hour").extensions is not None
