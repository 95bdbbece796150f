"""`ftsc-lightning-mode` on a copy of a package: exact files, idempotence, byte-for-byte round trips,
the install check, refusals (nothing written), exclusions and `--dry-run`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ftsc
from ftsc.lightning_mode import MODES, cli
from ftsc.lightning_mode.cli import default_package_dir, is_excluded, main, missing_packages, plan_toggle

# relative path -> (unified bytes, standalone bytes); None: not a Lightning module, never changes
FILES: dict[str, tuple[bytes, bytes | None]] = {
    "__init__.py": (
        b'"""Fixture package: the docs say `import lightning.pytorch as pl`."""\n\n'
        b"import lightning.pytorch as pl\n"
        b"from lightning.fabric.utilities.rank_zero import rank_zero_warn\n\n"
        b'__all__ = ["pl", "rank_zero_warn"]\n',
        b'"""Fixture package: the docs say `import lightning.pytorch as pl`."""\n\n'
        b"import pytorch_lightning as pl\n"
        b"from lightning_fabric.utilities.rank_zero import rank_zero_warn\n\n"
        b'__all__ = ["pl", "rank_zero_warn"]\n',
    ),
    "callbacks.py": (
        b"# This module subclasses lightning.pytorch callbacks.\n"
        b"from lightning.pytorch.callbacks import (\n"
        b"    BaseFinetuning,  # lightning.pytorch's base class\n"
        b"    Callback as _Callback,\n"
        b")\n\n"
        b'HELP = "pip install lightning, then import lightning.pytorch as pl"\n\n\n'
        b"class Thaw(BaseFinetuning):\n"
        b'    """Like lightning.pytorch.callbacks.BaseFinetuning.\n\n'
        b"    from lightning.pytorch import nothing\n"
        b'    """\n',
        b"# This module subclasses lightning.pytorch callbacks.\n"
        b"from pytorch_lightning.callbacks import (\n"
        b"    BaseFinetuning,  # lightning.pytorch's base class\n"
        b"    Callback as _Callback,\n"
        b")\n\n"
        b'HELP = "pip install lightning, then import lightning.pytorch as pl"\n\n\n'
        b"class Thaw(BaseFinetuning):\n"
        b'    """Like lightning.pytorch.callbacks.BaseFinetuning.\n\n'
        b"    from lightning.pytorch import nothing\n"
        b'    """\n',
    ),
    "crlf.py": (
        b"import os, lightning.pytorch as pl\r\n"
        b"from lightning.fabric import Fabric\r\n\r\n\r\n"
        b"def strategy():\r\n"
        b"    from lightning.pytorch.strategies import (\r\n"
        b"        DDPStrategy,\r\n"
        b"    )\r\n"
        b"    return DDPStrategy  # lightning.pytorch\r\n",
        b"import os, pytorch_lightning as pl\r\n"
        b"from lightning_fabric import Fabric\r\n\r\n\r\n"
        b"def strategy():\r\n"
        b"    from pytorch_lightning.strategies import (\r\n"
        b"        DDPStrategy,\r\n"
        b"    )\r\n"
        b"    return DDPStrategy  # lightning.pytorch\r\n",
    ),
    "sub/nested.py": (
        b"from __future__ import annotations\n\n"
        b"from typing import TYPE_CHECKING\n\n"
        b"if TYPE_CHECKING:\n"
        b"    import lightning.pytorch.loggers as loggers\n\n\n"
        b"def make():\n"
        b"    import lightning.pytorch as pl; return pl.Trainer()\n",
        b"from __future__ import annotations\n\n"
        b"from typing import TYPE_CHECKING\n\n"
        b"if TYPE_CHECKING:\n"
        b"    import pytorch_lightning.loggers as loggers\n\n\n"
        b"def make():\n"
        b"    import pytorch_lightning as pl; return pl.Trainer()\n",
    ),
    "sub/latin1.py": (
        b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nfrom lightning.pytorch import Trainer\n",
        b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nfrom pytorch_lightning import Trainer\n",
    ),
    "bom.pyi": (
        b"\xef\xbb\xbfimport lightning.fabric as lf\n",
        b"\xef\xbb\xbfimport lightning_fabric as lf\n",
    ),
    "plain.py": (b'"""No Lightning here: import lightning.pytorch as pl."""\nimport json\n', None),
    "notes.txt": (b"import lightning.pytorch as pl\n", None),
    # the tool's own modules: excluded by default
    "lightning_mode/rewrite.py": (b"import lightning.pytorch as pl\n", None),
    # a deliberate fallback that mixes both styles: excluded with --exclude
    "compat.py": (
        b"try:\n    import lightning.pytorch as pl\nexcept ImportError:\n    import pytorch_lightning as pl\n",
        None,
    ),
}
CONVERTED = sorted(name for name, (_, standalone) in FILES.items() if standalone is not None)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    for name, (unified, _) in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(unified)
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root (temporary files included) with its bytes and modification time."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def contents(root: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _) in snapshot(root).items()}


def toggle(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    status = main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_converts_a_package_to_standalone_exactly(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert (status, err) == (0, "")
    for name, (unified, standalone) in FILES.items():
        assert (package / name).read_bytes() == (unified if standalone is None else standalone), name
    assert out.splitlines() == [
        f"{package}/__init__.py:3: import lightning.pytorch as pl  ->  import pytorch_lightning as pl",
        f"{package}/__init__.py:4: from lightning.fabric.utilities.rank_zero import rank_zero_warn  ->  "
        "from lightning_fabric.utilities.rank_zero import rank_zero_warn",
        f"{package}/bom.pyi:1: import lightning.fabric as lf  ->  import lightning_fabric as lf",
        f"{package}/callbacks.py:2: from lightning.pytorch.callbacks import (  ->  "
        "from pytorch_lightning.callbacks import (",
        f"{package}/crlf.py:1: import os, lightning.pytorch as pl  ->  import os, pytorch_lightning as pl",
        f"{package}/crlf.py:2: from lightning.fabric import Fabric  ->  from lightning_fabric import Fabric",
        f"{package}/crlf.py:6: from lightning.pytorch.strategies import (  ->  "
        "from pytorch_lightning.strategies import (",
        f"{package}/sub/latin1.py:3: from lightning.pytorch import Trainer  ->  from pytorch_lightning import Trainer",
        f"{package}/sub/nested.py:6: import lightning.pytorch.loggers as loggers  ->  "
        "import pytorch_lightning.loggers as loggers",
        f"{package}/sub/nested.py:10: import lightning.pytorch as pl; return pl.Trainer()  ->  "
        "import pytorch_lightning as pl; return pl.Trainer()",
        f"ftsc-lightning-mode: standalone: rewrote 10 import(s) in 6 of 7 file(s) under {package}; "
        "2 file(s) excluded",
    ]


def test_same_mode_twice_changes_nothing(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ("--package-dir", package, "--exclude", "compat.py")
    assert toggle(capsys, "--mode", "standalone", *arguments)[0] == 0
    before = snapshot(package)
    status, out, err = toggle(capsys, "--mode", "standalone", *arguments)
    assert (status, err) == (0, "")
    assert out == (
        f"ftsc-lightning-mode: standalone: nothing to change in 7 file(s) under {package}; 2 file(s) excluded\n"
    )
    assert snapshot(package) == before  # not even rewritten with the same bytes
    # and back: the unified package is a fixed point of unified mode
    status, out, _ = toggle(capsys, "--mode", "unified", *arguments)
    assert status == 0
    assert out.splitlines()[-1].startswith("ftsc-lightning-mode: unified: rewrote 10 import(s) in 6 of 7")
    unified = snapshot(package)
    assert toggle(capsys, "--mode", "unified", *arguments)[0] == 0
    assert snapshot(package) == unified


def test_unified_standalone_unified_restores_every_byte(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = contents(package)
    for mode in ("standalone", "unified", "standalone", "unified"):
        assert toggle(capsys, "--mode", mode, "--package-dir", package, "--exclude", "compat.py")[0] == 0
        if mode == "standalone":
            assert contents(package) != original
    assert contents(package) == original


def test_file_permissions_are_kept_and_stale_bytecode_removed(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "callbacks.py").chmod(0o640)
    cache = package / "__pycache__"
    cache.mkdir()
    (cache / "callbacks.cpython-311.pyc").write_bytes(b"stale")
    (cache / "plain.cpython-311.pyc").write_bytes(b"current")
    assert toggle(capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py")[0] == 0
    assert (package / "callbacks.py").stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in cache.iterdir()) == ["plain.cpython-311.pyc"]


def test_dry_run_reports_and_writes_nothing(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(package)
    status, out, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py", "--dry-run"
    )
    assert (status, err) == (0, "")
    assert f"{package}/callbacks.py:2: from lightning.pytorch.callbacks import (" in out
    assert out.endswith(
        f"would rewrite 10 import(s) in 6 of 7 file(s) under {package} (dry run: nothing written); "
        "2 file(s) excluded\n"
    )
    assert snapshot(package) == before


def test_mixed_module_is_refused_unless_excluded(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(package)
    status, out, err = toggle(capsys, "--mode", "standalone", "--package-dir", package)
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{package}/compat.py:4:12: error: this file mixes unified imports (first at line 2) with standalone"
        " ones (first here); converting it to standalone would merge them and could not be undone: make the"
        " file one style, or exclude it if it deliberately supports both",
        "ftsc-lightning-mode: 1 problem(s) in 1 file(s) stop the conversion to standalone; nothing was written",
    ]
    assert snapshot(package) == before  # the convertible files were not written either


def test_bare_import_is_refused_and_nothing_is_written(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "sub" / "bare.py").write_bytes(
        b'"""Uses the dotted name."""\nimport lightning.pytorch\n\nT = lightning.pytorch.Trainer\n'
    )
    before = snapshot(package)
    status, out, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert (status, out) == (1, "")
    first = err.splitlines()[0]
    assert first.startswith(
        f"{package}/sub/bare.py:2:8: error: `import lightning.pytorch` without `as` binds"
    )
    assert "write `import lightning.pytorch as <name>`" in first.lower()
    assert snapshot(package) == before


def test_undecodable_file_is_refused(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (package / "broken.py").write_bytes(b"import lightning.pytorch as pl\nS = '\xff'\n")
    before = snapshot(package)
    status, _, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert status == 1
    assert f"{package}/broken.py:1:1: error: cannot read this file as Python source" in err
    assert snapshot(package) == before


def test_a_rot13_coding_cookie_is_refused_not_a_traceback(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "rot.py").write_bytes(b"# -*- coding: rot13 -*-\nvzcbeg yvtugavat.clgbepu nf cy\n")
    before = snapshot(package)
    status, _, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert status == 1
    assert f"{package}/rot.py:1:1: error: cannot read this file as Python source" in err
    assert "rot13" in err and "Traceback" not in err
    assert snapshot(package) == before


def test_a_link_out_of_the_package_is_never_written_through(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_bytes(b"import lightning.pytorch as pl\n")
    (package / "linked.py").symlink_to(outside)
    (package / "inner.py").symlink_to(package / "plain.py")  # a link inside the package is fine
    status, _, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert status == 1
    assert f"{package}/linked.py:1:1: error: a symbolic link to {outside}, outside the package folder" in err
    assert "inner.py" not in err
    assert outside.read_bytes() == b"import lightning.pytorch as pl\n"
    status, _, _ = toggle(
        capsys,
        "--mode",
        "standalone",
        "--package-dir",
        package,
        "--exclude",
        "compat.py",
        "--exclude",
        "linked.py",
    )
    assert status == 0
    assert outside.read_bytes() == b"import lightning.pytorch as pl\n"


def test_a_fifo_in_the_package_is_refused_without_blocking(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(package / "pipe.py")
    status, _, err = toggle(
        capsys, "--mode", "standalone", "--package-dir", package, "--exclude", "compat.py"
    )
    assert status == 2
    assert "pipe.py: not a regular file" in err


@pytest.mark.parametrize(
    ("mode", "absent", "install"),
    [
        ("standalone", "pytorch_lightning", "pytorch-lightning"),
        ("standalone", "lightning_fabric", "lightning-fabric"),
        ("unified", "lightning", "lightning"),
    ],
)
def test_missing_target_package_is_an_error(
    package: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    absent: str,
    install: str,
) -> None:
    real = importlib.util.find_spec
    looked_up: list[str] = []

    def find_spec(name: str, package: str | None = None) -> object:
        looked_up.append(name)
        return None if name == absent else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    before = snapshot(package)
    status, out, err = toggle(capsys, "--mode", mode, "--package-dir", package, "--exclude", "compat.py")
    assert (status, out) == (2, "")
    assert err == (
        f"ftsc-lightning-mode: error: cannot switch to {mode} imports: {absent} is not installed"
        f" (pip install {install}); nothing was changed\n"
    )
    assert all("." not in name for name in looked_up)  # top-level names only: nothing gets imported
    assert snapshot(package) == before


def test_install_check_does_not_import_and_accepts_loaded_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    def in_sys_modules_without_spec(name: str, package: str | None = None) -> object:
        raise ValueError(f"{name}.__spec__ is None")

    monkeypatch.setattr(importlib.util, "find_spec", in_sys_modules_without_spec)
    assert missing_packages("standalone") == []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    assert missing_packages("standalone") == ["pytorch_lightning", "lightning_fabric"]
    assert missing_packages("unified") == ["lightning"]


@pytest.mark.parametrize(
    ("relative", "patterns", "excluded"),
    [
        ("lightning_mode/cli.py", cli.DEFAULT_EXCLUDES, True),
        ("lightning_mode/sub/deep.py", ["lightning_mode"], True),
        ("lightning_mode_extra.py", ["lightning_mode"], False),
        ("compat.py", ["compat.py"], True),
        ("sub/compat.py", ["compat.py"], False),
        ("sub/compat.py", ["*/compat.py"], True),
        ("sub/compat.py", ["sub/"], True),
        ("sub/compat.py", ["*compat*"], True),
        ("runtime/trainer.py", [], False),
    ],
)
def test_exclusion_patterns(relative: str, patterns: list[str], excluded: bool) -> None:
    assert is_excluded(relative, patterns) is excluded


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--mode", "both"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    capsys.readouterr()
    status, _, err = toggle(capsys, "--mode", "unified", "--package-dir", tmp_path / "missing")
    assert status == 2
    assert err == f"ftsc-lightning-mode: error: {tmp_path / 'missing'}: not a folder\n"


def test_ftsc_itself_is_convertible_both_ways() -> None:
    """A guard for ftsc's own sources: every Lightning import in them has a form the tool can convert."""
    assert default_package_dir() == Path(ftsc.__file__).resolve().parent
    for mode in MODES:
        result = plan_toggle(default_package_dir(), mode, cli.DEFAULT_EXCLUDES)
        assert [(file.relative, file.rewrite.refusals) for file in result.refused] == []
        assert any(name.startswith("lightning_mode/") for name in result.excluded)


def test_runs_as_a_module(package: Path) -> None:
    before = snapshot(package)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ftsc.lightning_mode.cli",
            "--mode",
            "standalone",
            "--package-dir",
            str(package),
            "--exclude",
            "compat.py",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "would rewrite 10 import(s)" in completed.stdout
    assert snapshot(package) == before


PIN = Path(__file__).resolve().parents[2] / "requirements" / "lightning-pin.txt"


def pinned_versions() -> dict[str, str]:
    pins = {}
    for line in PIN.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pins[name.strip()] = version.strip()
    return pins


def test_ci_pin_names_one_lightning_release() -> None:
    pins = pinned_versions()
    assert set(pins) == {"lightning", "pytorch-lightning"}
    assert pins["lightning"] == pins["pytorch-lightning"]
    assert all(part.isdigit() for part in pins["lightning"].split("."))


@pytest.mark.skipif(
    os.environ.get("USE_CI_COMMIT_PIN") != "1", reason="only when CI installs the pinned release"
)
def test_ci_installed_the_pinned_release() -> None:
    from importlib.metadata import version

    for name, pinned in pinned_versions().items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned} in {PIN}"
