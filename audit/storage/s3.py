"""Object storage over the S3 protocol (AWS S3, MinIO, Ceph, Garage…), shared by every server of a scaled-out set-up.

Objects are written without an ACL, so they stay as private as the bucket (keep it private: no public policy);
the app serves them through its own views after its access checks, never through public or signed URLs. A
`put_object` is atomic by nature: an object is there whole or not at all, so no temporary files exist here.
boto3 is imported only when a store is made (it costs about a third of a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from audit.storage.base import OWN_NAME, FileStore, NotStored, StoredFile, check_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Store(FileStore):
    """Objects under ``prefix`` in ``bucket``; a key is the object's name without the prefix."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: S3Client | None = None,
        own_name: re.Pattern[str] = OWN_NAME,
        **client_options: Any,
    ) -> None:
        super().__init__(own_name=own_name)
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"an S3 key prefix ends with '/': {prefix!r}")
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or make_client(**client_options)
        self.location = f"s3://{bucket}/{prefix}"

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def read(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            raise _not_stored(exc, key) from None
        with answer["Body"] as body:
            return body.read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotStored:
            return False
        return True

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]
        except Exception as exc:
            raise _not_stored(exc, key) from None

    def listing(self) -> Iterator[StoredFile]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self.prefix) :]
                if self.own_name.fullmatch(key):
                    yield StoredFile(key, entry["LastModified"].timestamp(), entry["Size"])

    def check(self) -> None:
        """The bucket must exist and answer to these credentials."""
        self.client.head_bucket(Bucket=self.bucket)


@lru_cache(maxsize=8)
def make_client(
    *,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    addressing_style: str = "auto",
) -> S3Client:
    """An S3 client, one per process and set of options (clients are thread-safe, and making one takes half a
    second); empty credentials leave them to boto3's usual sources (environment, profile, instance role)."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": addressing_style},  # type: ignore[arg-type]  # checked in Settings
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )


def _not_stored(exc: Exception, key: str) -> Exception:
    """NotStored for the client's "no such object" answers; any other error as it is."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code")) in _MISSING:
        return NotStored(key)
    return exc
