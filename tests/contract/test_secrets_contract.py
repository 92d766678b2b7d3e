"""Secrets contract: one suite, run on the local encrypted store and on Secret Manager's adapter.

Proven how: ``LocalSecrets`` directly (plus its at-rest encryption and key-file permissions).
``SecretManagerSecrets`` through the real google-cloud-secret-manager client and its real gRPC
transport against an in-memory Secret Manager on 127.0.0.1 (tests/contract/grpc_fakes.py) that
parses each request with the package's own message classes and answers with Secret Manager's
status codes; a request-level test pins what is sent (resource names, automatic replication,
CRC32C checksums, the ENABLED filter of rotate). There is no official Secret Manager emulator.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from grpc_fakes import FakeSecretManager

from tower.ports import NotFound, PortError, Secrets

PROJECT = "tower-test"


@pytest.fixture
def fake_sm() -> Any:
    fake = FakeSecretManager(PROJECT).start()
    yield fake
    fake.stop()


@pytest.fixture(params=["local", "secretmanager"])
def secrets(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "local":
        from tower.adapters.local_secrets import LocalSecrets

        s: Any = LocalSecrets(tmp_path / "secrets")
    else:
        from tower.adapters.secret_manager import SecretManagerSecrets

        s = SecretManagerSecrets(PROJECT, client=request.getfixturevalue("fake_sm").client())
    yield s
    s.close()


def test_is_a_secret_store(secrets: Any) -> None:
    assert isinstance(secrets, Secrets)


def test_put_creates_versions_and_get_reads_latest_or_a_given_one(secrets: Any) -> None:
    assert secrets.exists("shopify-api-secret") is False
    assert secrets.put("shopify-api-secret", "first") == "1"
    assert secrets.exists("shopify-api-secret") is True
    assert secrets.put("shopify-api-secret", "sécond ✓") == "2"
    assert secrets.get("shopify-api-secret") == "sécond ✓"
    assert secrets.get("shopify-api-secret", "latest") == "sécond ✓"
    assert secrets.get("shopify-api-secret", "1") == "first"


def test_rotate_adds_a_version_and_disables_the_older_ones(secrets: Any) -> None:
    secrets.put("integration-b1-meta", "token-1")
    secrets.put("integration-b1-meta", "token-2")
    assert secrets.rotate("integration-b1-meta", "token-3") == "3"
    assert secrets.get("integration-b1-meta") == "token-3"
    for old in ("1", "2"):
        with pytest.raises(NotFound):
            secrets.get("integration-b1-meta", old)
    assert secrets.versions("integration-b1-meta") == [("3", "ENABLED"), ("2", "DISABLED"), ("1", "DISABLED")]


def test_rotate_creates_a_missing_secret(secrets: Any) -> None:
    assert secrets.rotate("anthropic-api-key", "k1") == "1"
    assert secrets.get("anthropic-api-key") == "k1"


def test_missing_secrets_and_versions_raise_not_found(secrets: Any) -> None:
    with pytest.raises(NotFound):
        secrets.get("never-put")
    secrets.put("one-version", "v")
    with pytest.raises(NotFound):
        secrets.get("one-version", "2")


def test_delete_removes_every_version_and_is_idempotent(secrets: Any) -> None:
    secrets.put("integration-b1-tiktok", "t1")
    secrets.put("integration-b1-tiktok", "t2")
    secrets.delete("integration-b1-tiktok")
    secrets.delete("integration-b1-tiktok")
    assert secrets.exists("integration-b1-tiktok") is False
    with pytest.raises(NotFound):
        secrets.get("integration-b1-tiktok")
    assert secrets.put("integration-b1-tiktok", "again") == "1"  # a new secret starts over


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.put("has/slash", "v"), "secret id"),
        (lambda s: s.put("", "v"), "secret id"),
        (lambda s: s.put("x" * 256, "v"), "secret id"),
        (lambda s: s.put("ok-id", b"bytes"), "str"),
        (lambda s: s.get("ok-id", "0"), "version"),
        (lambda s: s.get("ok-id", "newest"), "version"),
    ],
)
def test_bad_ids_values_and_versions_are_refused(secrets: Any, call: Any, match: str) -> None:
    with pytest.raises(PortError, match=match):
        call(secrets)


# --- Secret Manager: what goes over the wire -------------------------------------------------------


def test_secret_manager_requests_carry_names_replication_and_checksums(fake_sm: Any) -> None:
    import google_crc32c
    from google.cloud import secretmanager_v1 as sm

    from tower.adapters.secret_manager import SecretManagerSecrets

    s = SecretManagerSecrets(PROJECT, client=fake_sm.client())
    s.put("meta-app-secret", "s3cr3t")
    s.rotate("meta-app-secret", "n3w")
    assert s.get("meta-app-secret") == "n3w"
    assert fake_sm.calls() == [
        "add_secret_version",  # optimistic: most puts are new versions of existing secrets
        "create_secret",
        "add_secret_version",
        "add_secret_version",
        "list_secret_versions",
        "disable_secret_version",
        "access_secret_version",
    ]
    reqs = [r for _, r in fake_sm.requests]
    create = reqs[1]
    assert create.parent == f"projects/{PROJECT}" and create.secret_id == "meta-app-secret"
    assert "automatic" in create.secret.replication
    add = reqs[2]
    assert add.parent == f"projects/{PROJECT}/secrets/meta-app-secret"
    assert add.payload.data == b"s3cr3t" and add.payload.data_crc32c == google_crc32c.value(b"s3cr3t")
    assert reqs[4].filter == "state:ENABLED"
    assert reqs[5].name == f"projects/{PROJECT}/secrets/meta-app-secret/versions/1"
    assert isinstance(reqs[6], sm.AccessSecretVersionRequest)
    assert reqs[6].name == f"projects/{PROJECT}/secrets/meta-app-secret/versions/latest"


def test_exists_reads_the_latest_version_and_never_calls_get_secret(fake_sm: Any) -> None:
    from tower.adapters.secret_manager import SecretManagerSecrets

    s = SecretManagerSecrets(PROJECT, client=fake_sm.client())
    s.put("google-ads-developer-token", "dev-token")
    fake_sm.requests.clear()
    assert s.exists("google-ads-developer-token") is True
    assert s.exists("never-put") is False
    assert fake_sm.calls() == ["access_secret_version", "access_secret_version"]
    assert fake_sm.requests[0][1].name == f"projects/{PROJECT}/secrets/google-ads-developer-token/versions/latest"


def test_exists_with_only_the_accessor_role(fake_sm: Any) -> None:
    # What Terraform grants on a declared secret: secretAccessor (versions.access) and nothing else.
    from tower.adapters.secret_manager import SecretManagerSecrets

    s = SecretManagerSecrets(PROJECT, client=fake_sm.client())
    s.put("anthropic-api-key", "sk-ant-test")
    fake_sm.secrets[f"projects/{PROJECT}/secrets/google-ads-developer-token"] = []  # declared, no version yet
    fake_sm.allows = lambda permission, resource: permission == "secretmanager.versions.access"
    assert s.exists("anthropic-api-key") is True
    assert s.get("anthropic-api-key") == "sk-ant-test"
    assert s.exists("google-ads-developer-token") is False


def test_exists_of_a_secret_whose_latest_version_is_disabled(fake_sm: Any) -> None:
    from tower.adapters.secret_manager import SecretManagerSecrets

    s = SecretManagerSecrets(PROJECT, client=fake_sm.client())
    s.put("integration-b1-meta", "t1")
    s.rotate("integration-b1-meta", "t2")
    fake_sm.client().disable_secret_version(
        request={"name": f"projects/{PROJECT}/secrets/integration-b1-meta/versions/2"})
    assert s.exists("integration-b1-meta") is True  # there, so connect rotates it rather than re-creating it
    with pytest.raises(NotFound):
        s.get("integration-b1-meta")


def test_permission_denied_is_a_port_error_naming_the_secret_not_a_false(fake_sm: Any) -> None:
    from tower.adapters.secret_manager import SecretManagerSecrets

    s = SecretManagerSecrets(PROJECT, client=fake_sm.client())
    s.put("customer-hash-salt-b1", "salt")
    fake_sm.allows = lambda permission, resource: False
    for call in (lambda: s.exists("customer-hash-salt-b1"), lambda: s.get("customer-hash-salt-b1"),
                 lambda: s.put("customer-hash-salt-b2", "x"), lambda: s.delete("customer-hash-salt-b1")):
        with pytest.raises(PortError, match=r"may not \w+ secret 'customer-hash-salt-b\d'") as info:
            call()
        assert not isinstance(info.value, NotFound)
        assert "secretmanager." in str(info.value) and "integration- or customer-hash-salt-" in str(info.value)


# --- the local store: encryption at rest -------------------------------------------------------------


def test_local_key_file_is_0600_and_values_are_not_stored_in_clear(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import DB_FILE, KEY_FILE, LocalSecrets

    s = LocalSecrets(tmp_path / "secrets")
    s.put("shopify-api-secret", "plain-text-needle-42")
    s.close()
    key = tmp_path / "secrets" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    stored = b"".join(p.read_bytes() for p in (tmp_path / "secrets").iterdir() if p.name.startswith(DB_FILE))
    assert stored and b"plain-text-needle-42" not in stored
    assert LocalSecrets(tmp_path / "secrets").get("shopify-api-secret") == "plain-text-needle-42"


def test_local_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets

    LocalSecrets(tmp_path / "secrets").close()
    os.chmod(tmp_path / "secrets" / KEY_FILE, 0o644)
    with pytest.raises(PortError, match="chmod 600"):
        LocalSecrets(tmp_path / "secrets")


def test_local_ciphertext_is_bound_to_its_secret_and_version(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import LocalSecrets

    s = LocalSecrets(tmp_path / "secrets")
    s.put("a-secret", "value-a")
    s.put("b-secret", "value-b")
    # Copy a's sealed value onto b: it must not decrypt there.
    sealed = s._con.execute("SELECT ciphertext FROM versions WHERE secret_id = 'a-secret'").fetchone()[0]
    s._con.execute("UPDATE versions SET ciphertext = ? WHERE secret_id = 'b-secret'", (sealed,))
    with pytest.raises(PortError, match="does not decrypt"):
        s.get("b-secret")
    s.close()


def test_local_refuses_to_replace_a_deleted_key_while_secrets_exist(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets, SecretsKeyError

    directory = tmp_path / "secrets"
    s = LocalSecrets(directory)
    s.put("shopify-api-secret", "v1")
    s.put("shopify-api-secret", "v2")
    s.close()
    key = directory / KEY_FILE
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(SecretsKeyError) as caught:
        LocalSecrets(directory)
    message = str(caught.value)
    assert str(key) in message and "missing" in message and "2 encrypted secret version(s)" in message
    assert "Restore secrets.key" in message and f"remove {directory}" in message
    assert "\n" not in message
    assert not key.exists(), "no new key may be written over the stored secrets"
    # Restoring the file is the way back: the stored secrets decrypt again.
    fd = os.open(key, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, saved)
    os.close(fd)
    assert LocalSecrets(directory).get("shopify-api-secret") == "v2"


def test_local_creates_a_key_when_no_secret_is_stored(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets

    directory = tmp_path / "secrets"
    s = LocalSecrets(directory)
    s.put("shopify-api-secret", "v1")
    s.delete("shopify-api-secret")
    s.close()
    (directory / KEY_FILE).unlink()
    s = LocalSecrets(directory)  # nothing a new key could strand: it is created
    s.put("shopify-api-secret", "v2")
    assert s.get("shopify-api-secret") == "v2" and (directory / KEY_FILE).exists()
    s.close()


@pytest.mark.parametrize("content", [b"", b"not a key at all\n", b"\xff\xfe\x00garbage", b"c2hvcnQ=\n"],
                         ids=["empty", "text", "binary", "short"])
def test_local_refuses_a_corrupt_key_in_one_line(tmp_path: Path, content: bytes) -> None:
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets, SecretsKeyError

    directory = tmp_path / "secrets"
    LocalSecrets(directory).close()
    (directory / KEY_FILE).write_bytes(content)
    with pytest.raises(SecretsKeyError, match="corrupt") as caught:
        LocalSecrets(directory)
    assert str(directory / KEY_FILE) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660], ids=["640", "604", "660"])
def test_local_refuses_a_key_readable_by_group_or_others_naming_the_fix(tmp_path: Path, mode: int) -> None:
    from tower.adapters.local_secrets import KEY_FILE, LocalSecrets, SecretsKeyError

    directory = tmp_path / "secrets"
    LocalSecrets(directory).close()
    os.chmod(directory / KEY_FILE, mode)
    with pytest.raises(SecretsKeyError, match=f"mode {mode:o}") as caught:
        LocalSecrets(directory)
    assert f"chmod 600 {directory / KEY_FILE}" in str(caught.value)
