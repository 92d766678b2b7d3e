"""The document store on Cloud Firestore (google-cloud-firestore), imported only when configured.

``FIRESTORE_EMULATOR_HOST`` makes the client talk to the official emulator; the contract suite runs
this adapter there with the same assertions as the SQLite one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tower.adapters.local_store import check_collection_path, check_query, check_value, split_doc_path
from tower.ports import Conflict, DocQuery, NotFound, PortError

# The port's where ops are Firestore's own spelling; only the directions need translating.
_DIRECTIONS = {"asc": "ASCENDING", "desc": "DESCENDING"}


def _port_error(e: Exception, what: str) -> PortError:
    from google.api_core import exceptions as gexc

    if isinstance(e, gexc.NotFound):
        return NotFound(f"{what}: {e.message}")
    if isinstance(e, (gexc.AlreadyExists, gexc.Aborted, gexc.FailedPrecondition)):
        return Conflict(f"{what}: {e.message}")
    if isinstance(e, gexc.GoogleAPICallError):
        return PortError(f"{what}: {type(e).__name__}: {e.message}")
    return PortError(f"{what}: {type(e).__name__}: {e}")


class _FirestoreTransaction:
    """The port's Transaction over a google-cloud-firestore Transaction (reads before writes)."""

    def __init__(self, client: Any, txn: Any) -> None:
        self._client = client
        self._txn = txn

    def get(self, path: str) -> dict[str, Any] | None:
        from google.cloud.firestore_v1._helpers import ReadAfterWriteError

        split_doc_path(path)
        try:
            snap = self._client.document(path).get(transaction=self._txn)
        except ReadAfterWriteError as e:
            raise PortError("transaction read after write: do every read before the first write") from e
        return snap.to_dict() if snap.exists else None

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._txn.set(self._client.document(path), dict(data))

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._txn.set(self._client.document(path), dict(data), merge=True)

    def delete(self, path: str) -> None:
        split_doc_path(path)
        self._txn.delete(self._client.document(path))

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        """Create the document; the commit fails with Conflict when it exists."""
        split_doc_path(path)
        check_value(data)
        self._txn.create(self._client.document(path), dict(data))


class _FirestoreBatch:
    def __init__(self, client: Any, wrote: Callable[[], None]) -> None:
        self._client = client
        self._batch = client.batch()
        self._wrote = wrote

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._batch.set(self._client.document(path), dict(data))

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        self._batch.set(self._client.document(path), dict(data), merge=True)

    def delete(self, path: str) -> None:
        split_doc_path(path)
        self._batch.delete(self._client.document(path))

    def commit(self) -> None:
        """Apply every write atomically (Firestore commits a batch as one request)."""
        try:
            self._batch.commit()
        except Exception as e:
            raise _port_error(e, "batch commit") from e
        finally:
            self._wrote()  # even a failed request may have committed
        self._batch = self._client.batch()


class FirestoreStore:
    """DocumentStore port on a Firestore database (native mode)."""

    def __init__(self, project: str, database: str = "(default)", *, client: Any = None,
                 max_attempts: int = 5) -> None:
        if client is None:
            from google.cloud import firestore

            client = firestore.Client(project=project or None, database=database or "(default)")
        self._client = client
        self._max_attempts = max_attempts
        self._writes = 0  # this instance's writes: its change stamp (other instances' are not seen)

    def change_stamp(self) -> tuple[int, int]:
        """(writes this instance made, 0): Firestore tells nothing cheaply of other instances' writes, so
        what the API reuses across them is bounded by ``TOWER_API_MEMO_SECONDS`` (:class:`tower.ports.ChangeStamped`)."""
        return self._writes, 0

    def _wrote(self) -> None:
        self._writes += 1

    def get(self, path: str) -> dict[str, Any] | None:
        split_doc_path(path)
        try:
            snap = self._client.document(path).get()
        except Exception as e:
            raise _port_error(e, f"get {path}") from e
        return snap.to_dict() if snap.exists else None

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        try:
            self._client.document(path).set(dict(data))
        except Exception as e:
            raise _port_error(e, f"set {path}") from e
        finally:
            self._wrote()

    def merge(self, path: str, data: Mapping[str, Any]) -> None:
        split_doc_path(path)
        check_value(data)
        try:
            self._client.document(path).set(dict(data), merge=True)
        except Exception as e:
            raise _port_error(e, f"merge {path}") from e
        finally:
            self._wrote()

    def delete(self, path: str) -> None:
        split_doc_path(path)
        try:
            self._client.document(path).delete()
        except Exception as e:
            raise _port_error(e, f"delete {path}") from e
        finally:
            self._wrote()

    def create(self, path: str, data: Mapping[str, Any]) -> bool:
        from google.api_core.exceptions import AlreadyExists

        split_doc_path(path)
        check_value(data)
        try:
            self._client.document(path).create(dict(data))
        except AlreadyExists:
            return False
        except Exception as e:
            raise _port_error(e, f"create {path}") from e
        finally:
            self._wrote()
        return True

    def query(self, q: DocQuery) -> list[tuple[str, dict[str, Any]]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        check_query(q)
        ref: Any = self._client.collection(check_collection_path(q.collection))
        for w in q.where:
            value = list(w.value) if w.op == "in" else w.value
            ref = ref.where(filter=FieldFilter(w.field, w.op, value))
        for field, direction in q.order_by:
            ref = ref.order_by(field, direction=_DIRECTIONS[direction])
        if q.limit is not None:
            ref = ref.limit(q.limit)
        try:
            return [(snap.reference.path, snap.to_dict() or {}) for snap in ref.stream()]
        except Exception as e:
            raise _port_error(e, f"query {q.collection}") from e

    def transaction(self, fn: Callable[[Any], Any]) -> Any:
        """Run fn in a Firestore transaction (retried on contention, so fn must be side-effect free).

        Raises Conflict when contention outlasts ``max_attempts``; an exception in fn rolls back
        and propagates unchanged.
        """
        from google.cloud import firestore

        client = self._client

        @firestore.transactional
        def run(txn: Any) -> Any:
            return fn(_FirestoreTransaction(client, txn))

        try:
            return run(client.transaction(max_attempts=self._max_attempts))
        except ValueError as e:
            # The SDK wraps exhausted retries (Aborted) in a ValueError; fn's own ValueErrors pass.
            from google.api_core.exceptions import Aborted

            if isinstance(e.__cause__, Aborted):
                raise Conflict(f"transaction kept conflicting after {self._max_attempts} attempts") from e
            raise
        except PortError:
            raise
        except Exception as e:
            from google.api_core.exceptions import GoogleAPICallError

            if isinstance(e, GoogleAPICallError):
                raise _port_error(e, "transaction") from e
            raise
        finally:
            self._wrote()  # a transaction may have written, whatever it answered

    def batch(self) -> _FirestoreBatch:
        return _FirestoreBatch(self._client, self._wrote)

    def close(self) -> None:
        self._client.close()
