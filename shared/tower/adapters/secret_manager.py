"""Secrets on Secret Manager (google-cloud-secret-manager), imported only when configured.

Values travel with a CRC32C checksum both ways (Secret Manager verifies ours; we verify its), and
secrets are created with automatic replication. ``rotate`` adds a version, then disables the
enabled older ones it lists.
"""

from __future__ import annotations

from typing import Any

from tower import names
from tower.adapters.local_secrets import check_secret_id, check_version
from tower.ports import NotFound, PortError
from tower.redact import remember


def _denied(action: str, secret_id: str, error: Any) -> str:
    """A PERMISSION_DENIED answer as one line naming the secret and where the grant comes from."""
    return (
        f"the service account may not {action} secret {secret_id!r} ({error.message}); Terraform grants the "
        f"runtime secretAccessor on the declared secrets and its secret role on ids starting with "
        f"{' or '.join(names.RUNTIME_SECRET_PREFIXES)}"
    )


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


class SecretManagerSecrets:
    """Secrets port on the secrets of one GCP project."""

    def __init__(self, project: str, *, client: Any = None) -> None:
        if not project:
            raise PortError("secret manager needs a project: TOWER_SECRETS=secretmanager://PROJECT")
        if client is None:
            from google.cloud import secretmanager

            client = secretmanager.SecretManagerServiceClient()
        self.project = project
        self._client = client

    def _path(self, secret_id: str) -> str:
        return f"projects/{self.project}/secrets/{check_secret_id(secret_id)}"

    def _add_version(self, secret_id: str, value: str) -> str:
        from google.api_core import exceptions as gexc

        if not isinstance(value, str):
            raise PortError(f"secret value must be a str, got {type(value).__name__}")
        remember(value)  # masked in logs and errors from now on
        data = value.encode("utf-8")
        payload = {"data": data, "data_crc32c": _crc32c(data)}
        try:
            version = self._client.add_secret_version(request={"parent": self._path(secret_id), "payload": payload})
        except gexc.NotFound:
            try:
                self._client.create_secret(
                    request={
                        "parent": f"projects/{self.project}",
                        "secret_id": secret_id,
                        "secret": {"replication": {"automatic": {}}},
                    }
                )
            except gexc.AlreadyExists:
                pass  # created meanwhile by another caller
            version = self._client.add_secret_version(request={"parent": self._path(secret_id), "payload": payload})
        return str(version.name).rsplit("/", 1)[-1]

    def put(self, secret_id: str, value: str) -> str:
        """Create the secret if needed and add a version holding value; return its number."""
        from google.api_core import exceptions as gexc

        try:
            return self._add_version(secret_id, value)
        except gexc.PermissionDenied as e:
            raise PortError(_denied("write", secret_id, e)) from None
        except gexc.GoogleAPICallError as e:
            raise PortError(f"put secret {secret_id}: {type(e).__name__}: {e.message}") from e

    def get(self, secret_id: str, version: str = "latest") -> str:
        """The value of a version; NotFound when the secret or version is absent or disabled."""
        from google.api_core import exceptions as gexc

        check_version(version)
        name = f"{self._path(secret_id)}/versions/{version}"
        try:
            resp = self._client.access_secret_version(request={"name": name})
        except gexc.NotFound as e:
            raise NotFound(f"secret {secret_id!r} version {version} does not exist") from e
        except gexc.FailedPrecondition as e:
            # Secret Manager answers FAILED_PRECONDITION for a disabled or destroyed version.
            raise NotFound(f"secret {secret_id!r} version {version} is not enabled: {e.message}") from e
        except gexc.PermissionDenied as e:
            raise PortError(_denied("read", secret_id, e)) from None
        except gexc.GoogleAPICallError as e:
            raise PortError(f"get secret {secret_id}: {type(e).__name__}: {e.message}") from e
        data = bytes(resp.payload.data)
        if resp.payload.data_crc32c and int(resp.payload.data_crc32c) != _crc32c(data):
            raise PortError(f"secret {secret_id!r}: payload checksum mismatch (corrupted in transit)")
        return remember(data.decode("utf-8"))  # masked in logs and errors from now on

    def rotate(self, secret_id: str, value: str) -> str:
        """Add a version with value, then disable every other enabled version."""
        from google.api_core import exceptions as gexc

        try:
            new = self._add_version(secret_id, value)
            for v in self._client.list_secret_versions(
                request={"parent": self._path(secret_id), "filter": "state:ENABLED"}
            ):
                if str(v.name).rsplit("/", 1)[-1] != new:
                    self._client.disable_secret_version(request={"name": v.name})
        except gexc.PermissionDenied as e:
            raise PortError(_denied("rotate", secret_id, e)) from None
        except gexc.GoogleAPICallError as e:
            raise PortError(f"rotate secret {secret_id}: {type(e).__name__}: {e.message}") from e
        return new

    def versions(self, secret_id: str) -> list[tuple[str, str]]:
        """(version, state) of every version, newest first."""
        from google.api_core import exceptions as gexc

        try:
            return [
                (str(v.name).rsplit("/", 1)[-1], v.state.name)
                for v in self._client.list_secret_versions(request={"parent": self._path(secret_id)})
            ]
        except gexc.NotFound as e:
            raise NotFound(f"secret {secret_id!r} does not exist") from e

    def delete(self, secret_id: str) -> None:
        """Delete the secret and its versions (deleting a missing secret is not an error)."""
        from google.api_core import exceptions as gexc

        try:
            self._client.delete_secret(request={"name": self._path(secret_id)})
        except gexc.NotFound:
            pass
        except gexc.PermissionDenied as e:
            raise PortError(_denied("delete", secret_id, e)) from None
        except gexc.GoogleAPICallError as e:
            raise PortError(f"delete secret {secret_id}: {type(e).__name__}: {e.message}") from e

    def exists(self, secret_id: str) -> bool:
        """Whether the secret is there with a version to read.

        Asked by accessing the latest version, not with GetSecret: the runtime holds
        ``secretmanager.versions.access`` on the secrets it reads but not ``secretmanager.secrets.get``
        (Terraform's grants, tests/unit/infra/test_permissions.py). A secret declared by Terraform
        that has no version yet answers NOT_FOUND, as a missing one does: both are "not there".

        Raises:
            PortError: Secret Manager refused the call (PERMISSION_DENIED names the missing grant),
                rather than a ``False`` that would send a caller on to create what it cannot read.
        """
        from google.api_core import exceptions as gexc

        try:
            self._client.access_secret_version(request={"name": f"{self._path(secret_id)}/versions/latest"})
        except gexc.NotFound:
            return False
        except gexc.FailedPrecondition:
            return True  # its latest version is disabled or destroyed: the secret itself exists
        except gexc.PermissionDenied as e:
            raise PortError(_denied("read", secret_id, e)) from None
        except gexc.GoogleAPICallError as e:
            raise PortError(f"exists secret {secret_id}: {type(e).__name__}: {e.message}") from e
        return True

    def close(self) -> None:
        transport = getattr(self._client, "transport", None)
        if transport is not None:
            transport.close()
