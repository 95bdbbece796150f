"""PEFT (LoRA, …) models from a config alone (the optional `peft` extra): the base model a factory builds,
wrapped by `peft.get_peft_model` with the settings of an `adapter_config.json`.

`peft_factory(base, adapter_config)` reads the adapter config (the file, or a folder holding
`adapter_config.json`; never the Hub) and returns a factory that `build_model` calls on the meta device.
peft builds its adapter layers where the base layers are, so nothing is allocated, and it sets
`requires_grad` as in training: adapters (and `modules_to_save` copies) trainable, base weights frozen,
which the namespace records. The config's `base_model_name_or_path` is not used: the base model is the
one `--hf-config` (or the factory) builds.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftsc.namespaces.build import NamedWrongly

if TYPE_CHECKING:
    from torch import nn

__all__ = ["PeftError", "load_peft_config", "peft_factory"]

_INSTALL_HINT = "install the `peft` extra (`pip install 'ftsc[peft]'`)"


class PeftError(NamedWrongly):
    """peft missing, or an adapter config that cannot be read or does not fit the model."""


def _peft() -> Any:
    try:
        import peft
    except ImportError as exc:
        raise PeftError(f"--peft-config needs peft: {_INSTALL_HINT} ({exc})") from None
    return peft


def load_peft_config(path: str | os.PathLike[str]) -> Any:
    """The `PeftConfig` (a `LoraConfig`, …) of an `adapter_config.json` or a folder holding one."""
    peft = _peft()
    where = Path(path)
    file = where / "adapter_config.json" if where.is_dir() else where
    if not file.is_file():
        raise PeftError(
            f"{where}: no such file (give an adapter_config.json or a folder holding one; nothing is "
            "downloaded)"
            if not where.is_dir()
            else f"{where}: the folder has no adapter_config.json"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PeftError(f"{file}: not a readable JSON adapter config ({exc})") from None
    if not isinstance(data, dict) or "peft_type" not in data:
        raise PeftError(f'{file}: not a PEFT adapter config (no `peft_type`; e.g. "peft_type": "LORA")')
    data.pop("runtime_config", None)  # what peft's own loader drops: it only holds at run time
    try:
        return peft.PeftConfig.from_peft_type(**data)
    except (KeyError, TypeError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PeftError(f"{file}: not a usable PEFT adapter config: {message}") from None


def peft_factory(
    base: Callable[[], object], adapter_config: str | os.PathLike[str]
) -> Callable[[], nn.Module]:
    """A factory that builds `base()` and wraps it with `peft.get_peft_model` and the adapter config."""
    peft = _peft()
    config = load_peft_config(adapter_config)

    def build_peft() -> nn.Module:
        model = base()
        try:
            with warnings.catch_warnings():  # peft's own use of a transformers API: nothing a user can change
                warnings.filterwarnings("ignore", ".*is_gradient_checkpointing.*", FutureWarning)
                wrapped: nn.Module = peft.get_peft_model(model, config)
        except ValueError as exc:  # peft's word for a config that does not fit the model
            message = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
            names = ", ".join(f"`{name}`" for name in _layer_names(model))
            raise PeftError(
                f"{adapter_config} does not fit {type(model).__name__}: {message}; fix `target_modules` "
                f"(the model's layers that LoRA can wrap are named {names}) and export again"
            ) from None
        return wrapped

    return build_peft


def _layer_names(model: Any) -> list[str]:
    """The last segments of the model's linear, embedding and convolution layers: what `target_modules`
    names (peft matches a plain string against the end of each module name)."""
    from torch import nn

    kinds = (nn.Linear, nn.Embedding, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    return sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, module in model.named_modules()
            if name and (isinstance(module, kinds) or type(module).__name__ == "Conv1D")  # GPT-2's Conv1D
        }
    )
