"""Hugging Face models from a `config.json` alone (the optional `hf` extra: transformers).

`hf_factory(config, auto_class)` reads the config (a `config.json` file or a folder holding one; never
the Hub: `local_files_only=True`, and a path that does not exist is an error, not a repository id)
and returns a factory that `build_model` calls on the meta device:
`AutoModel….from_config(config)` for an auto class, `Class(config)` for a model class.

Without `auto_class`, the config's `architectures` entry is used when it names exactly one class of
transformers (what the checkpoint was saved as), else `AutoModel`. As with `from_config`, a
`torch_dtype` / `dtype` in the config sets the parameters' dtype.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

__all__ = ["HFError", "default_auto_class", "hf_factory", "load_hf_config"]

_INSTALL_HINT = "install the `hf` extra (`pip install 'ftsc[hf]'`, i.e. transformers)"


class HFError(Exception):
    """transformers missing, a config that cannot be read, or an auto class that does not fit it."""


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise HFError(f"--hf-config needs transformers: {_INSTALL_HINT} ({exc})") from None
    return transformers


def load_hf_config(path: str | os.PathLike[str]) -> Any:
    """The `PretrainedConfig` of a `config.json` file or a folder with one; HFError otherwise."""
    transformers = _transformers()
    where = Path(path)
    if where.is_dir():
        if not (where / "config.json").is_file():
            raise HFError(f"{where}: the folder has no config.json")
    elif not where.is_file():
        raise HFError(
            f"{where}: no such file (give a config.json or a folder holding one; nothing is downloaded)"
        )
    try:
        return transformers.AutoConfig.from_pretrained(
            os.fspath(where), local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HFError(f"{where}: not a usable Hugging Face config: {message}") from None


def default_auto_class(config: Any) -> str:
    """The config's single `architectures` class when transformers has it, else `AutoModel`."""
    transformers = _transformers()
    architectures = getattr(config, "architectures", None) or []
    if len(architectures) == 1 and isinstance(architectures[0], str):
        try:
            getattr(transformers, architectures[0])
        except (AttributeError, ImportError, RuntimeError):
            return "AutoModel"
        return architectures[0]
    return "AutoModel"


def hf_factory(config_path: str | os.PathLike[str], auto_class: str | None = None) -> Callable[[], nn.Module]:
    """A no-argument factory that builds the config's model (call it under `build_model`).

    `auto_class` is a transformers auto class (`AutoModelForCausalLM`, `AutoModelForSequenceClassification`
    …) or model class (`LlamaForCausalLM`); None picks `default_auto_class(config)`.
    """
    transformers = _transformers()
    config = load_hf_config(config_path)
    name = auto_class or default_auto_class(config)
    try:
        cls = getattr(transformers, name)
    except (AttributeError, ImportError, RuntimeError):
        close = _close_class(transformers, name)
        hint = (
            f"; did you mean {close}?"
            if close
            else " (e.g. AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification, "
            "LlamaForCausalLM)"
        )
        raise HFError(
            f"--auto-class {name!r} is not a class of transformers {transformers.__version__}{hint}"
        ) from None
    pretrained = transformers.PreTrainedModel
    if name.startswith("Auto") and callable(getattr(cls, "from_config", None)):
        if not _auto_class_fits(cls, config):
            raise HFError(
                f"{name} has no model for a {type(config).__name__} (model_type "
                f"{getattr(config, 'model_type', '?')!r}); pick another --auto-class"
            )

        def build_auto() -> nn.Module:
            model: nn.Module = cls.from_config(config)
            return model

        return build_auto
    if isinstance(cls, type) and issubclass(cls, pretrained):
        config_class: Any = getattr(cls, "config_class", None)
        if isinstance(config_class, type) and not isinstance(config, config_class):
            raise HFError(
                f"{name} takes a {config_class.__name__}, and {config_path} is a {type(config).__name__}"
            )

        def build_class() -> nn.Module:
            model: nn.Module = cls(config)
            return model

        return build_class
    raise HFError(f"--auto-class {name!r} is neither an AutoModel… class nor a transformers model class")


def _close_class(transformers: Any, name: str) -> str | None:
    """The transformers class name closest to a misspelt `name` (`AutoModelForSequenceClasification`)."""
    import difflib

    names = [entry for entry in dir(transformers) if entry[:1].isupper() and not entry.isupper()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    return close[0] if close else None


def _auto_class_fits(cls: Any, config: Any) -> bool:
    """Whether the auto class maps this config class to a model (True when that cannot be told)."""
    mapping = getattr(cls, "_model_mapping", None)
    if mapping is None:
        return True
    try:
        return type(config) in mapping
    except Exception:  # a private mapping whose behaviour changed: let from_config decide
        return True
