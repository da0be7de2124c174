"""The storage interface's folder implementation: keys in, local files out, nothing outside the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from ab2n.server.storage import FolderStorage, Storage


def _storage(tmp_path: Path) -> FolderStorage:
    for sub in ("uploads", "outputs"):
        (tmp_path / sub).mkdir()
    return FolderStorage(tmp_path)


def test_upload_is_kept_under_a_relative_key(tmp_path: Path) -> None:
    st: Storage = _storage(tmp_path)
    received = st.receiving_path()
    assert received.parent == tmp_path / "uploads" and received.name.endswith(".partial")
    received.write_bytes(b"abc")
    key = st.keep_upload(received, ".bin")
    assert key.startswith("uploads/") and key.endswith(".bin") and not Path(key).is_absolute()
    assert not received.exists()
    assert st.exists(key) and st.local(key).read_bytes() == b"abc"
    other = st.receiving_path()
    other.write_bytes(b"x")
    assert st.keep_upload(other, ".bin") != key  # random names: two uploads never collide
    st.delete(key)
    assert not st.exists(key)
    st.delete(key)  # already gone: nothing


def test_output_key_names_owner_and_job(tmp_path: Path) -> None:
    st = _storage(tmp_path)
    out = st.output_file("cli_1", "job_1")
    assert out.parent.is_dir()
    out.write_bytes(b"mp4")
    key = st.keep_output(out, "cli_1", "job_1")
    assert key == "outputs/cli_1/job_1.mp4"
    assert st.local(key) == out and st.exists(key)


def test_keys_cannot_climb_out_and_old_absolute_rows_still_resolve(tmp_path: Path) -> None:
    st = _storage(tmp_path)
    with pytest.raises(ValueError):
        st.local("uploads/../../etc/passwd")
    old = tmp_path / "uploads" / "before-keys.bin"
    old.write_bytes(b"old")
    assert st.local(str(old)) == old and st.exists(str(old))
