"""Verified cache entries: manifests, corruption found and rebuilt (or refused), content digests,
resumable builds, content identity of inputs, and the `python -m s1x.cache` commands."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from s1x.cache import CorruptEntryError, HashMemo, StageCache, content_identity


def _builder(calls, payload=b"weights-v1" * 1000):
    def build(d: Path):
        calls.append(1)
        (d / "model.safetensors").write_bytes(payload)
        (d / "sub").mkdir()
        (d / "sub" / "log.jsonl").write_text('{"loss": 1.0}\n')
        return {"n": 1}
    return build


def test_an_entry_records_its_files_and_a_digest(tmp_path):
    cache, calls = StageCache(tmp_path), []
    e = cache.get_or_build("sft", "k", _builder(calls))
    manifest = json.loads((e.path / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.safetensors", "sub/log.jsonl", "meta.json"}
    assert manifest["files"]["model.safetensors"]["size"] == 10_000
    assert e.digest == manifest["digest"] and len(e.digest) == 16
    assert cache.lookup("sft", "k").digest == e.digest
    assert cache.problems(e.path) == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "extra"])
def test_a_damaged_entry_is_moved_aside_and_rebuilt(tmp_path, damage):
    cache, calls = StageCache(tmp_path), []
    e = cache.get_or_build("sft", "k", _builder(calls))
    f = e.path / "model.safetensors"
    if damage == "flip":
        data = bytearray(f.read_bytes())
        data[4321] ^= 0x01
        f.write_bytes(bytes(data))
    elif damage == "truncate":
        f.write_bytes(f.read_bytes()[:5000])
    elif damage == "delete":
        f.unlink()
    else:
        (e.path / "stray.txt").write_text("x")
    assert cache.problems(e.path)  # detected
    again = cache.get_or_build("sft", "k", _builder(calls))
    assert not again.cached and len(calls) == 2
    assert again.digest == e.digest  # the same bytes rebuilt: the same identity
    assert cache.problems(again.path) == []
    aside = list((tmp_path / "sft" / ".corrupt").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith("k-")


def test_a_flipped_bit_with_the_old_mtime_is_still_found_in_a_small_file(tmp_path):
    cache, calls = StageCache(tmp_path), []
    e = cache.get_or_build("sft", "k", _builder(calls))
    f = e.path / "model.safetensors"
    st = f.stat()
    data = bytearray(f.read_bytes())
    data[0] ^= 0x80
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # bit rot keeps the mtime
    assert any("sha256" in p for p in cache.problems(e.path))


def test_large_files_are_read_once_then_known_by_their_stat(tmp_path):
    memo = HashMemo(tmp_path / "memo", rehash_below=1000)
    f = tmp_path / "big.bin"
    f.write_bytes(b"a" * 5000)
    d1 = memo.digest(f)
    assert len(list((tmp_path / "memo").iterdir())) == 1
    f.write_bytes(b"b" * 5000)  # same size, new mtime: a new stat, so hashed again
    assert memo.digest(f) != d1


def test_on_corrupt_fail_names_the_entry_and_how_to_delete_it(tmp_path):
    calls = []
    e = StageCache(tmp_path).get_or_build("sft", "k", _builder(calls))
    (e.path / "model.safetensors").write_bytes(b"x")
    with pytest.raises(CorruptEntryError) as err:
        StageCache(tmp_path, on_corrupt="fail").get_or_build("sft", "k", _builder(calls))
    assert str(e.path) in str(err.value) and f"rm -r {e.path}" in str(err.value)
    assert len(calls) == 1


def test_an_entry_without_a_manifest_is_adopted_as_it_is(tmp_path):
    final = tmp_path / "sft" / "old"
    final.mkdir(parents=True)
    (final / "meta.json").write_text("{}")
    (final / "model.bin").write_bytes(b"old")
    e = StageCache(tmp_path).lookup("sft", "old")
    assert e is not None and (final / "manifest.json").exists()


def test_a_resumable_build_keeps_its_work_after_a_failure(tmp_path):
    cache = StageCache(tmp_path)
    seen = []

    def build(d: Path):
        seen.append(sorted(p.name for p in d.iterdir()))
        if not (d / "half.txt").exists():
            (d / "half.txt").write_text("first half")
            raise RuntimeError("killed")
        (d / "full.txt").write_text("second half")

    with pytest.raises(RuntimeError):
        cache.get_or_build("probe", "k", build, resumable=True)
    e = cache.get_or_build("probe", "k", build, resumable=True)
    assert seen == [[], ["half.txt"]]
    assert (e.path / "half.txt").read_text() == "first half" and (e.path / "full.txt").exists()
    assert not (tmp_path / "probe" / ".partial" / "k").exists()


def test_content_identity_follows_bytes_not_names(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "w.bin").write_bytes(b"123")
    assert content_identity(a) == content_identity(b)
    (b / "w.bin").write_bytes(b"124")
    assert content_identity(a) != content_identity(b)
    f = tmp_path / "pool.jsonl"
    f.write_text('{"question": "q"}\n')
    before = content_identity(f)
    f.write_text('{"question": "Q"}\n')
    assert content_identity(f) != before


def _cli(*args, cache_dir):
    return subprocess.run([sys.executable, "-m", "s1x.cache", *args, "--cache-dir", str(cache_dir)],
                          capture_output=True, text=True, timeout=60)


def test_cache_cli_verify_and_gc(tmp_path):
    cache, calls = StageCache(tmp_path), []
    good = cache.get_or_build("sft", "good", _builder(calls))
    bad = cache.get_or_build("sft", "bad", _builder(calls))
    (bad.path / "model.safetensors").write_bytes(b"short")
    (tmp_path / "sft" / ".tmp" / "dead-1-x").mkdir(parents=True)
    r = _cli("verify", cache_dir=tmp_path)
    assert r.returncode == 1 and "BAD sft/bad" in r.stdout and "2 entries, 1 bad" in r.stdout
    assert "sft/good" not in r.stdout
    r = _cli("verify", "--fix", cache_dir=tmp_path)
    assert not bad.path.exists() and good.path.exists()
    assert _cli("verify", cache_dir=tmp_path).returncode == 0
    r = _cli("gc", cache_dir=tmp_path)
    assert r.returncode == 0 and not list((tmp_path / "sft" / ".corrupt").iterdir())
    assert not (tmp_path / "sft" / ".tmp" / "dead-1-x").exists()
    assert _cli("verify", cache_dir=tmp_path / "nowhere").returncode == 2
