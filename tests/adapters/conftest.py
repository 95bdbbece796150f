"""The third-party plugin package (`plugin_pkg/`), installed once per session the way a user installs one.

`pip install --no-deps --no-build-isolation --no-index --target DIR` builds and installs it offline (with the
venv's setuptools) into a temporary folder, which then goes on `sys.path` with its `.dist-info`, so that
`importlib.metadata.entry_points(group="ftsc.strategy_adapters")` sees its entry points. Nothing is
installed into the venv; the folder leaves `sys.path` at the end of the session.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator

import pytest
from adapters_support import GPT2, PLUGIN_MODULES, PLUGIN_SOURCE, PluginSite

from ftsc.adapters import registry
from ftsc.compiler.namespace import Namespace, load_namespace


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginSite]:
    base = tmp_path_factory.mktemp("lens_plugin")
    source = base / "source"  # a copy: building in place would leave build/ and *.egg-info in the tree
    shutil.copytree(
        PLUGIN_SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    site = base / "site"
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), str(source),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        pytest.fail(f"could not install the plugin package:\n{completed.stdout}{completed.stderr}")
    sys.path.insert(0, str(site))
    with warnings.catch_warnings(record=True) as caught:  # discover once, here: the tests stay quiet
        warnings.simplefilter("always")
        registry.refresh()
        registry.available_adapters()
    messages = tuple(str(w.message) for w in caught if issubclass(w.category, registry.AdapterLoadWarning))
    yield PluginSite(site, messages)
    sys.path.remove(str(site))
    for name in list(sys.modules):
        if name.split(".")[0] in PLUGIN_MODULES:
            del sys.modules[name]
    registry.refresh()


@pytest.fixture(scope="module")
def gpt2() -> Namespace:
    return load_namespace(GPT2)
