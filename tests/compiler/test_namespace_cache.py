"""The persistent namespace cache: a hit is exactly a fresh load; an edited, corrupt or foreign entry is
never used; concurrent writers, an unwritable folder and a disabled cache all still load correctly."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftsc.compiler import namespace_cache
from ftsc.compiler.namespace import Namespace, NamespaceError, load_namespace
from ftsc.compiler.selectors import index_of

ROOT = Path(__file__).resolve().parents[2]


def _document(layers: int = 3) -> dict[str, object]:
    parameters: list[dict[str, object]] = [{"name": "embed.weight", "shape": [10, 4], "dtype": "float32"}]
    for layer in range(layers):
        parameters += [
            {"name": f"layers.{layer}.attn.weight", "shape": [4, 4], "dtype": "bfloat16"},
            {"name": f"layers.{layer}.norm.weight", "shape": [4], "requires_grad": False},
            {"name": f"layers.{layer}.mlp.bias"},
        ]
    return {
        "namespace_version": 1,
        "model": "tiny",
        "adapter": "default",
        "parameters": parameters,
        "modules": [{"name": "layers.0", "type": "Block"}],
        "aliases": [{"name": "head.weight", "target": "embed.weight"}],
    }


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FTSC_CACHE_DIR", str(cache))
    monkeypatch.setattr(namespace_cache, "MIN_BYTES", 0)  # these test files are small
    namespace_cache.configure()
    return cache / "namespaces"


def _write(path: Path, document: dict[str, object]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ftscns")) if folder.is_dir() else []


def _same(first: Namespace, second: Namespace) -> None:
    assert first == second
    assert first.fingerprint() == second.fingerprint()
    assert first.path == second.path
    assert first.index == second.index
    assert index_of(first).segments_after("layers") == index_of(second).segments_after("layers")
    assert list(index_of(first).sorted_positions) == list(index_of(second).sorted_positions)


def test_a_hit_is_exactly_a_fresh_load(tmp_path: Path, folder: Path) -> None:
    path = _write(tmp_path / "ns.json", _document())
    first = load_namespace(path)  # miss: stored, and given back as the cache will give it
    assert len(_entries(folder)) == 1
    _same(first, load_namespace(path, cache=False))
    hit = load_namespace(path)
    assert hit is not first
    # element counts from the cached shape table, before any parameter record is made
    assert hit.total_numel(["embed.weight", "head.weight", "layers.1.attn.weight"]) == 56
    assert hit.total_numel(["embed.weight", "layers.0.mlp.bias"]) is None  # a shape is unknown
    _same(hit, load_namespace(path, cache=False))
    assert hit.parameters[2].requires_grad is False
    assert hit.parameters[1].shape == (4, 4) and hit.parameters[1].dtype == "bfloat16"
    assert hit.total_numel(["embed.weight", "head.weight"]) == 40
    assert len(_entries(folder)) == 1


def test_an_edited_file_is_never_answered_from_the_old_entry(tmp_path: Path, folder: Path) -> None:
    path = _write(tmp_path / "ns.json", _document())
    load_namespace(path)
    stat = path.stat()
    text = path.read_text(encoding="utf-8").replace("layers.2.mlp.bias", "layers.2.mlp.bia2")
    path.write_text(text, encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: only the content differs
    edited = load_namespace(path)
    assert "layers.2.mlp.bia2" in edited and "layers.2.mlp.bias" not in edited
    assert len(_entries(folder)) == 2


def test_an_invalid_file_is_reported_every_time_and_never_stored(tmp_path: Path, folder: Path) -> None:
    document = _document()
    document["parameters"] = [{"name": "a.b"}, {"name": "a.b"}]
    path = _write(tmp_path / "ns.json", document)
    for _ in range(2):
        with pytest.raises(NamespaceError, match="duplicate parameter name"):
            load_namespace(path)
    assert _entries(folder) == []


def _corruptions(blob: bytes) -> dict[str, bytes]:
    header = len(namespace_cache._MAGIC) + 4 + 32 + 8 + 32
    flipped = bytearray(blob)
    flipped[header + len(blob[header:]) // 2] ^= 0xFF
    foreign = bytearray(blob)
    foreign[len(namespace_cache._MAGIC)] ^= 0x01  # another entry format
    return {
        "truncated": blob[: len(blob) // 2],
        "empty": b"",
        "garbage": os.urandom(len(blob)),
        "payload byte flipped": bytes(flipped),
        "another format": bytes(foreign),
        "another key": blob[: len(namespace_cache._MAGIC) + 4]
        + bytes(32)
        + blob[len(namespace_cache._MAGIC) + 36 :],
    }


@pytest.mark.parametrize(
    "kind", ["truncated", "empty", "garbage", "payload byte flipped", "another format", "another key"]
)
def test_a_corrupt_or_foreign_entry_is_ignored_and_rebuilt(tmp_path: Path, folder: Path, kind: str) -> None:
    path = _write(tmp_path / "ns.json", _document())
    fresh = load_namespace(path, cache=False)
    load_namespace(path)
    (entry,) = _entries(folder)
    good = entry.read_bytes()
    entry.write_bytes(_corruptions(good)[kind])
    _same(load_namespace(path), fresh)
    assert entry.read_bytes() == good  # rebuilt
    _same(load_namespace(path), fresh)


def test_a_sound_header_over_data_of_another_shape_is_a_miss(tmp_path: Path, folder: Path) -> None:
    path = _write(tmp_path / "ns.json", _document())
    content = path.read_bytes()
    key = namespace_cache.content_key(content)
    for data in ("not an entry", (1, 2, 3), ((1, 2),) * 13):
        payload = marshal.dumps(data)
        blob = b"".join(
            (
                namespace_cache._MAGIC,
                namespace_cache.FORMAT.to_bytes(4, "little"),
                bytes.fromhex(key),
                len(payload).to_bytes(8, "little"),
                namespace_cache._digest(payload),
                payload,
            )
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.ftscns").write_bytes(blob)
        assert namespace_cache.read_entry(content) == (key, None)
        _same(load_namespace(path), load_namespace(path, cache=False))


def test_concurrent_writers_leave_one_sound_entry(tmp_path: Path, folder: Path) -> None:
    path = _write(tmp_path / "ns.json", _document(layers=1500))  # over MIN_BYTES in the children too
    code = (
        "import sys; from ftsc.compiler.namespace import load_namespace; "
        "n = load_namespace(sys.argv[1]); print(len(n), n.fingerprint())"
    )
    env = {**os.environ, "FTSC_CACHE_DIR": str(folder.parent)}
    processes = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = {process.communicate(timeout=120)[0] for process in processes}
    assert all(process.returncode == 0 for process in processes)
    fresh = load_namespace(path, cache=False)
    assert outputs == {f"{len(fresh)} {fresh.fingerprint()}\n"}
    assert len(_entries(folder)) == 1
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind
    assert namespace_cache.read_entry(path.read_bytes())[1] is not None
    _same(load_namespace(path), fresh)


def test_an_unwritable_cache_folder_only_means_no_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(namespace_cache, "MIN_BYTES", 0)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FTSC_CACHE_DIR", str(blocker / "cache"))  # cannot be created, even by root
    path = _write(tmp_path / "ns.json", _document())
    for _ in range(2):
        _same(load_namespace(path), load_namespace(path, cache=False))
    assert blocker.read_text() == "not a folder"


def test_a_read_only_cache_folder_only_means_no_entry(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.mkdir(parents=True)

    def read_only(*args: object) -> None:  # what a read-only file system answers (root included)
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(namespace_cache.os, "replace", read_only)
    path = _write(tmp_path / "ns.json", _document())
    for _ in range(2):
        _same(load_namespace(path), load_namespace(path, cache=False))
    assert list(folder.iterdir()) == []  # no entry, and no temporary file left behind


def test_off_in_the_environment_disables_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(namespace_cache, "MIN_BYTES", 0)
    monkeypatch.setenv("FTSC_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert namespace_cache.cache_folder() is None
    path = _write(tmp_path / "ns.json", _document())
    _same(load_namespace(path), load_namespace(path, cache=False))
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_xdg_cache_home_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTSC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert namespace_cache.cache_folder() == tmp_path / "xdg" / "ftsc" / "namespaces"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG rule: only absolute paths count
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert namespace_cache.cache_folder() == tmp_path / "home" / ".cache" / "ftsc" / "namespaces"


def _check(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftsc", "check", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_small_file_is_read_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTSC_CACHE_DIR", str(tmp_path / "cache"))
    path = _write(tmp_path / "ns.json", _document())
    assert path.stat().st_size < namespace_cache.MIN_BYTES
    _same(load_namespace(path), load_namespace(path, cache=False))
    assert not (tmp_path / "cache").exists()


def test_cli_no_cache_and_cache_dir(tmp_path: Path) -> None:
    _write(tmp_path / "big.json", _document(layers=1500))  # over MIN_BYTES: cached
    assert (tmp_path / "big.json").stat().st_size >= namespace_cache.MIN_BYTES
    schedule = str(tmp_path / "big.fts")
    Path(schedule).write_text(
        'fts 1\nuse namespace "big.json"\nphase top {\n    thaw layers.1499.**\n}\n'
        "phase rest_of_model {\n    thaw rest\n}\n",
        encoding="utf-8",
    )
    default = tmp_path / "default"
    env = {**os.environ, "FTSC_CACHE_DIR": str(default)}
    first = _check(schedule, "--no-cache", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert not default.exists()
    moved = tmp_path / "moved"
    second = _check(schedule, "--cache-dir", str(moved), env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert len(_entries(moved / "namespaces")) == 1 and not default.exists()
    third = _check(schedule, env=env)  # the environment's folder
    assert third.stdout == first.stdout
    assert len(_entries(default / "namespaces")) == 1
    both = _check(schedule, "--no-cache", "--cache-dir", str(moved), env=env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
