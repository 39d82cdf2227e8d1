"""File storage: the same behaviour from the local folder and from S3 (a real moto server), and what only one has."""

from __future__ import annotations

import re
import secrets
import stat
import time
from pathlib import Path

import pytest

from audit.storage.base import BATCH_NAME, FileStore, NotStored, StoreUnavailable
from audit.storage.local import LocalStore
from audit.storage.s3 import S3Store
from tests.s3_support import BUCKET, S3Server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalStore(tmp_path / "var" / "photos")  # not there yet: created on the first save
    s3: S3Server = request.getfixturevalue("s3_server")
    return S3Store(BUCKET, f"t-{secrets.token_hex(6)}/photos/", client=s3.client())


def test_round_trip_exists_size(store: FileStore) -> None:
    key = store.save(b"jpeg bytes")

    assert store.read(key) == b"jpeg bytes"
    assert store.exists(key)
    assert store.size(key) == len(b"jpeg bytes")


def test_keys_are_random_and_sharded(store: FileStore) -> None:
    first, second = store.save(b"a"), store.save(b"a", suffix=".webp")

    assert first != second
    for key, suffix in ((first, "jpg"), (second, "webp")):
        match = re.fullmatch(rf"([0-9a-f]{{2}})/([0-9a-f]{{2}})/([0-9a-f]{{32}})\.{suffix}", key)
        assert match
        assert match[3].startswith(match[1] + match[2])


def test_missing_files(store: FileStore) -> None:
    never = "00/00/" + "0" * 32 + ".jpg"

    assert not store.exists(never)
    with pytest.raises(NotStored):
        store.read(never)
    with pytest.raises(NotStored):
        store.size(never)
    with pytest.raises(FileNotFoundError):  # NotStored is one
        store.read(never)


def test_delete(store: FileStore) -> None:
    key = store.save(b"data")

    store.delete(key)
    store.delete(key)  # already gone: fine
    store.delete("00/00/" + "0" * 32 + ".jpg")  # never there: fine

    assert not store.exists(key)
    with pytest.raises(NotStored):
        store.read(key)


def test_put_replaces(store: FileStore) -> None:
    key = store.save(b"first")
    store.put(key, b"second")

    assert store.read(key) == b"second"


@pytest.mark.parametrize("suffix", ["", "jpg", ".JPG", "/../x.jpg", ".jp/g", "." + "a" * 9])
def test_odd_suffixes_are_refused(store: FileStore, suffix: str) -> None:
    with pytest.raises(ValueError, match="suffix"):
        store.save(b"data", suffix=suffix)


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "ab/../../x", "ab/../cd/../../x", "", ".", "ab//x", "ab\\..\\..\\x", "ab/\x00.jpg"]
)
def test_keys_that_could_lead_outside_are_refused(store: FileStore, key: str) -> None:
    for operation in (store.read, store.delete, store.exists, store.size):
        with pytest.raises(ValueError, match="not a"):
            operation(key)
    with pytest.raises(ValueError, match="not a"):
        store.put(key, b"x")


def test_listing_names_the_stores_own_files_with_size_and_time(store: FileStore) -> None:
    started = time.time()
    kept = store.save(b"12345")
    foreign = ["notes.txt", "ab/cd/readme.jpg", "ab/cd/" + "a" * 32 + ".jpg/x"]
    for key in foreign[:2]:
        store.put(key, b"not the store's")

    listed = {entry.key: entry for entry in store.listing()}

    assert set(listed) == {kept}
    assert listed[kept].size == 5
    assert started - 2 <= listed[kept].modified <= time.time() + 2  # S3 keeps whole seconds
    assert not listed[kept].temporary


def test_batch_outputs_old_and_new_are_listed(store: FileStore) -> None:
    store.own_name = BATCH_NAME
    new = store.save(b"%PDF", ".pdf")
    old = secrets.token_hex(16) + ".zip"  # written flat, before the stores came
    store.put(old, b"PK")

    assert {entry.key for entry in store.listing()} == {new, old}


def test_check_passes_for_a_usable_store(store: FileStore) -> None:
    store.check()


# --- the local folder -------------------------------------------------------------------------------------------


def test_local_files_are_not_world_readable_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "photos")
    key = store.save(b"data")

    path = store.path_for(key)
    assert path.parent.parent.parent == store.root.resolve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_local_temporary_files_are_listed_as_temporary(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "photos")
    key = store.save(b"data")
    left = Path(store.path_for(key)).parent / ".upload-k2j4_x.part"
    left.write_bytes(b"half")

    listed = {entry.key: entry.temporary for entry in store.listing()}

    assert listed == {key: False, f"{key.rsplit('/', 1)[0]}/.upload-k2j4_x.part": True}


def test_local_refuses_a_symbolic_link_that_leads_out(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "photos")
    outside = tmp_path / "outside" / "cd"
    outside.mkdir(parents=True)
    (outside / ("c" * 32 + ".jpg")).write_bytes(b"secret")
    store.root.mkdir(parents=True)
    (store.root / "ab").symlink_to(outside.parent, target_is_directory=True)

    with pytest.raises(ValueError, match="not a path inside the store"):
        store.read("ab/cd/" + "c" * 32 + ".jpg")
    assert list(store.listing()) == []


# --- S3 ---------------------------------------------------------------------------------------------------------


def test_s3_objects_are_private_and_under_the_prefix(s3_server: S3Server) -> None:
    prefix = f"t-{secrets.token_hex(6)}/photos/"
    client = s3_server.client()
    store = S3Store(BUCKET, prefix, client=client)
    key = store.save(b"private")

    assert s3_server.keys(prefix) == {key: b"private"}
    grants = client.get_object_acl(Bucket=BUCKET, Key=prefix + key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    # Only the owner: no grant to AllUsers or AuthenticatedUsers.
    assert all(grant["Grantee"].get("Type") == "CanonicalUser" for grant in grants)


def test_s3_check_fails_for_a_missing_bucket(s3_server: S3Server) -> None:
    with pytest.raises(StoreUnavailable, match="404"):
        S3Store("no-such-bucket", client=s3_server.client()).check()


def test_s3_prefix_must_end_with_a_slash(s3_server: S3Server) -> None:
    with pytest.raises(ValueError, match="ends with"):
        S3Store(BUCKET, "photos", client=s3_server.client())
