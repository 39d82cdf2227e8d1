"""A real S3-protocol server for the storage tests: moto's server on a free loopback port, one bucket.

Each test that uses it works under a key prefix of its own, so tests never see each other's objects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask

from audit.settings import Settings

BUCKET = "tryggahus-test"
REGION = "eu-north-1"
CREDENTIALS = {"access_key_id": "test-access-key", "secret_access_key": "test-secret-key"}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        from audit.storage.s3 import make_client

        return make_client(endpoint_url=self.endpoint_url, region=REGION, addressing_style="path", **CREDENTIALS)

    def settings(self, settings: Settings, prefix: str | None = None) -> Settings:
        """`settings` with the S3 backend on this server, under a fresh key prefix (or the one given)."""
        return dataclasses.replace(
            settings,
            storage="s3",
            s3_bucket=BUCKET,
            s3_prefix=prefix if prefix is not None else f"t-{secrets.token_hex(6)}/",
            s3_endpoint_url=self.endpoint_url,
            s3_region=REGION,
            s3_access_key_id=CREDENTIALS["access_key_id"],
            s3_secret_access_key=CREDENTIALS["secret_access_key"],
            s3_addressing_style="path",
        )

    def keys(self, prefix: str) -> dict[str, bytes]:
        """Every object under `prefix`, by its key without the prefix, with its bytes."""
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for entry in page.get("Contents", []):
                body = client.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
                found[entry["Key"][len(prefix) :]] = body
        return found


@contextmanager
def running_s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    # moto's server answers through werkzeug, whose access lines would reach the app's log handler (and the output
    # of the commands the tests run): only its warnings are wanted.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = S3Server(f"http://{host}:{port}")
        client = s3.client()
        # moto keeps its buckets per process: a second server in the same test process already has it.
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3
    finally:
        server.stop()


@contextmanager
def s3_storage(app: Flask, s3: S3Server) -> Iterator[Settings]:
    """The app stores its files on the S3 server (a fresh prefix) meanwhile; yields those settings."""
    settings = app.config["TRYGGAHUS"]
    app.config["TRYGGAHUS"] = s3.settings(settings)
    try:
        yield app.config["TRYGGAHUS"]
    finally:
        app.config["TRYGGAHUS"] = settings
