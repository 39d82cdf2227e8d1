"""Object storage over the S3 protocol (AWS S3, MinIO, Ceph, Garage…), shared by every server of a scaled-out set-up.

Objects are written without an ACL, so they stay as private as the bucket (keep it private: no public policy);
the app serves them through its own views after its access checks, never through public or signed URLs. A
`put_object` is atomic by nature: an object is there whole or not at all, so no temporary files exist here.
boto3 is imported only when a store is made (it costs almost half a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from audit.storage.base import OWN_NAME, FileStore, NotStored, StoredFile, StoreUnavailable, check_key

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
        name = self._name(key)
        with _errors(key):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data)

    def read(self, key: str) -> bytes:
        name = self._name(key)
        with _errors(key):
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
            with answer["Body"] as body:
                return body.read()

    def delete(self, key: str) -> None:
        name = self._name(key)
        with _errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=name)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotStored:
            return False
        return True

    def size(self, key: str) -> int:
        name = self._name(key)
        with _errors(key):
            return self.client.head_object(Bucket=self.bucket, Key=name)["ContentLength"]

    def listing(self) -> Iterator[StoredFile]:
        with _errors(self.prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"][len(self.prefix) :]
                    if self.own_name.fullmatch(key):
                        yield StoredFile(key, entry["LastModified"].timestamp(), entry["Size"])

    def check(self) -> None:
        """The bucket must exist and answer to these credentials."""
        with _errors(""):
            self.client.head_bucket(Bucket=self.bucket)


@lru_cache(maxsize=8)
def make_client(
    *,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    addressing_style: str = "auto",
    max_attempts: int = 3,
) -> S3Client:
    """An S3 client, one per process and set of options (clients are thread-safe, and making one takes half a
    second); empty credentials leave them to boto3's usual sources (environment, profile, instance role)."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": addressing_style},  # type: ignore[arg-type]  # checked in Settings
        retries={"max_attempts": max_attempts, "mode": "standard"},
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


@contextmanager
def _errors(key: str) -> Iterator[None]:
    """The client's "no such object" as NotStored, every other failure of the client as StoreUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if str(error.get("Code")) in _MISSING and key:
            raise NotStored(key) from None
        raise StoreUnavailable(f"S3: {error.get('Code')}: {error.get('Message') or exc}") from exc
    except BotoCoreError as exc:
        raise StoreUnavailable(f"S3: {exc}") from exc
