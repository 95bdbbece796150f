"""Resolve a TARGET string (`pkg.module:callable` or `pkg.module.callable`) to the callable it names.

The rules, chosen so that a TARGET means one thing and a mistake says which part is wrong:

- `module:attr.path`: `module` is imported exactly as written, then `attr.path` is looked up in it
  attribute by attribute (`pkg.models:Model.small` is the `small` attribute of class `Model`).
- `a.b.c` (no colon): the longest prefix that is an importable module is imported and the rest is
  looked up in it. A prefix that exists but fails to import (it raises, or imports a module that is
  missing) is reported as that failure, never skipped in favour of a shorter prefix.
- the current folder is searched first, as `python -m` does, so `ftsc namespace export models:build`
  finds `./models.py` whatever folder the `ftsc` script lives in.
- the result must be callable (a class or a function that builds the model). A module object or an
  already built `nn.Module` instance is refused: the model must be built here, on the meta device.

This module does not import torch: the caller checks what the callable returns.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["TargetError", "TargetImportError", "lookup_target", "resolve_target", "split_target"]

_IDENTIFIER = re.compile(r"[^\W\d]\w*\Z")
_FORMS = "expected `pkg.module:callable` or `pkg.module.callable`"


class TargetError(Exception):
    """A TARGET that is malformed or names nothing callable; the message says which part is wrong."""


class TargetImportError(TargetError):
    """Importing the TARGET's module raised; `__cause__` is the original exception (for a traceback)."""


def split_target(spec: str) -> tuple[str | None, list[str]]:
    """`(module, attribute path)` for `module:attr.path`, `(None, segments)` for a dotted TARGET.

    Raises TargetError for a malformed TARGET (empty, a second colon, an empty or non-identifier part).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise TargetError(f"empty TARGET; {_FORMS}")
    if spec != spec.strip():
        raise TargetError(f"TARGET {spec!r} has leading or trailing spaces; {_FORMS}")
    if spec.count(":") > 1:
        raise TargetError(f"TARGET {spec!r} has more than one `:`; {_FORMS}")
    if ":" in spec:
        module, _, attributes = spec.partition(":")
        if not module:
            raise TargetError(f"TARGET {spec!r} has no module before `:`; {_FORMS}")
        if not attributes:
            raise TargetError(f"TARGET {spec!r} has nothing after `:`; {_FORMS}")
        _check_dotted(spec, module, "module")
        _check_dotted(spec, attributes, "attribute path")
        return module, attributes.split(".")
    _check_dotted(spec, spec, "TARGET")
    segments = spec.split(".")
    if len(segments) < 2:
        raise TargetError(
            f"TARGET {spec!r} names a module but not the callable in it; "
            f"write `{spec}:build_model` (the function or class that builds the model)"
        )
    return None, segments


def resolve_target(spec: str) -> Callable[[], object]:
    """The callable a TARGET names; TargetError (TargetImportError when the import raised) otherwise."""
    found = lookup_target(spec)
    if isinstance(found, types.ModuleType):
        raise TargetError(
            f"TARGET {spec!r} is a module, not a callable; name the function or class in it that builds "
            f"the model, e.g. `{found.__name__}:build_model`"
        )
    if not callable(found):
        raise TargetError(
            f"TARGET {spec!r} is {_describe(found)}, not a callable; name a function or class that builds "
            "the model (an already built model cannot be used: it must be built on the meta device)"
        )
    if _is_torch_module_instance(found):
        raise TargetError(
            f"TARGET {spec!r} is an already built model ({type(found).__name__} instance), not a "
            "function or class that builds one; the model must be built here, on the meta device"
        )
    factory: Callable[[], object] = found  # checked callable; called with no arguments
    return factory


def lookup_target(spec: str) -> object:
    """Whatever a TARGET names (imported and looked up, not checked or called); raises TargetError."""
    module_name, path = split_target(spec)
    with _current_folder_on_path():
        if module_name is not None:
            module = _import(module_name, spec)
            if module is None:
                raise TargetError(_not_found(spec, module_name))
            attributes = path
            missing = ""
        else:
            module, attributes, missing = _import_longest_prefix(path, spec)
    found: object = module
    where = module.__name__
    for attribute in attributes:
        try:
            found = getattr(found, attribute)
        except AttributeError:
            also = (
                f" (and there is no module named {missing!r})" if missing and where == module.__name__ else ""
            )
            raise TargetError(
                f"TARGET {spec!r}: {where!r} has no attribute {attribute!r}{also}{_suggest(found, attribute)}"
            ) from None
        except Exception as exc:  # a lazy module's __getattr__ that imports, and fails
            raise TargetImportError(
                f"TARGET {spec!r}: looking up {attribute!r} in {where!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        where = f"{where}.{attribute}"
    return found


def _check_dotted(spec: str, text: str, what: str) -> None:
    for segment in text.split("."):
        if not segment:
            raise TargetError(f"TARGET {spec!r}: the {what} {text!r} has an empty part; {_FORMS}")
        if not _IDENTIFIER.match(segment):
            raise TargetError(
                f"TARGET {spec!r}: {segment!r} in the {what} is not a Python identifier; {_FORMS}"
                + (" (a file path is not accepted: name the module)" if "/" in spec or "\\" in spec else "")
            )


def _import(name: str, spec: str) -> types.ModuleType | None:
    """The module, or None when it (or a package above it) does not exist; TargetImportError if it raises."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name or name.startswith(missing + "."):
            return None  # the module itself or one of its packages is missing
        raise TargetImportError(
            f"TARGET {spec!r}: importing {name!r} failed: it imports {missing!r}, which is not installed"
        ) from exc
    except Exception as exc:
        raise TargetImportError(
            f"TARGET {spec!r}: importing {name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _import_longest_prefix(segments: list[str], spec: str) -> tuple[types.ModuleType, list[str], str]:
    """The longest importable module prefix, the attributes after it, and the longest name not found."""
    missing = ""
    for split in range(len(segments) - 1, 0, -1):
        name = ".".join(segments[:split])
        module = _import(name, spec)
        if module is not None:
            return module, segments[split:], missing
        missing = missing or name
    raise TargetError(_not_found(spec, segments[0]))


def _not_found(spec: str, name: str) -> str:
    return (
        f"TARGET {spec!r}: no module named {name!r} (searched the current folder and sys.path; "
        "is the package installed, or the folder on PYTHONPATH?)"
    )


def _suggest(owner: object, attribute: str) -> str:
    import difflib

    names = [name for name in dir(owner) if not name.startswith("_")]
    close = difflib.get_close_matches(attribute, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _describe(value: object) -> str:
    return "None" if value is None else f"a {type(value).__name__} value"


def _is_torch_module_instance(value: object) -> bool:
    torch_nn = sys.modules.get("torch.nn")  # never import torch here: only check when it is loaded
    return torch_nn is not None and isinstance(value, torch_nn.Module)


@contextmanager
def _current_folder_on_path() -> Iterator[None]:
    """Put the current folder first on sys.path while importing (as `python -m` does), then restore."""
    folder = str(Path.cwd())
    if folder in sys.path or "" in sys.path:
        yield
        return
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with suppress(ValueError):
            sys.path.remove(folder)
