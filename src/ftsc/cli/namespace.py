"""`ftsc namespace export TARGET -o NS.json`: a model's namespace file, built on the meta device.

    ftsc namespace export pkg.models:build_model -o ns.json [--precision bf16-true] [--model-name NAME]
    ftsc namespace export --hf-config path/to/config.json [--auto-class AutoModelForCausalLM] -o ns.json
    ftsc namespace export --hf-config config.json --peft-config adapter_config.json -o ns.json

The model is built on the meta device under the precision plugin's module init context (no weights
are allocated, no GPU is needed), a LightningModule's `configure_model()` is called as Lightning does,
and the namespace is validated against the shipped schema and written atomically (`-o -`: stdout).

Exit status: 0 written; 1 the model's own code raised (its traceback is printed); 2 usage: a bad TARGET,
precision, config or output path. torch is imported only when this command runs.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from ftsc.cli.common import EXIT_ERRORS, EXIT_OK, UsageError
from ftsc.compiler import Namespace
from ftsc.wording import counted

_MAX_LISTED = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="namespace_command", required=True, metavar="SUBCOMMAND")
    help_text = "build a model on the meta device and write its namespace file (JSON)"
    export = commands.add_parser("export", help=help_text, description=help_text)
    export.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="`pkg.module:callable` or `pkg.module.callable`: a class or function, called with no "
        "arguments, that returns a torch.nn.Module or LightningModule (the current folder is searched first)",
    )
    export.add_argument(
        "-o", "--output", required=True, metavar="NS", help="namespace file to write (`-`: stdout)"
    )
    export.add_argument(
        "--precision",
        metavar="P",
        help="Lightning precision whose module init context the model is built under: 32-true, "
        "bf16-mixed, 16-mixed, bf16-true, 16-true, 64-true, transformer-engine, … or a TARGET returning "
        "a Precision plugin (default: none, i.e. float32 as 32-true)",
    )
    export.add_argument(
        "--model-name", metavar="NAME", help="the namespace's model name (default: class name)"
    )
    export.add_argument(
        "--hf-config",
        metavar="CONFIG",
        type=Path,
        help="build a Hugging Face model from a config.json (or a folder with one) instead of a TARGET; "
        "needs the `hf` extra; nothing is downloaded",
    )
    export.add_argument(
        "--auto-class",
        metavar="CLASS",
        help="with --hf-config: AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification, … or "
        "a model class such as LlamaForCausalLM (default: the config's `architectures`, else AutoModel)",
    )
    export.add_argument(
        "--peft-config",
        metavar="ADAPTER",
        type=Path,
        help="with --hf-config: wrap the model with peft.get_peft_model and this adapter_config.json (or a "
        "folder with one), as training does: LoRA adapters trainable, base weights frozen; needs the `peft` "
        "extra",
    )


def run(args: argparse.Namespace) -> int:
    if args.namespace_command != "export":  # pragma: no cover - argparse allows only the known ones
        raise UsageError(f"unknown namespace subcommand {args.namespace_command!r}")
    return _export(args)


def _export(args: argparse.Namespace) -> int:
    if args.target is None and args.hf_config is None:
        raise UsageError("namespace export: give a TARGET (`pkg.module:callable`) or --hf-config CONFIG")
    if args.target is not None and args.hf_config is not None:
        raise UsageError("namespace export: give a TARGET or --hf-config, not both")
    if args.auto_class is not None and args.hf_config is None:
        raise UsageError("namespace export: --auto-class is only used with --hf-config")
    if args.peft_config is not None and args.hf_config is None:
        raise UsageError(
            "namespace export: --peft-config is only used with --hf-config (a TARGET that builds a PEFT "
            "model calls peft.get_peft_model itself)"
        )
    to_stdout = args.output == "-"
    if not to_stdout:
        _check_output(Path(args.output))
    try:
        from ftsc import namespaces
    except ImportError as exc:
        raise UsageError(f"namespace export needs torch (`pip install 'ftsc[runtime]'`): {exc}") from None

    try:
        result = namespaces.export_namespace(
            args.target,
            hf_config=args.hf_config,
            auto_class=args.auto_class,
            peft_config=args.peft_config,
            precision=args.precision,
            model_name=args.model_name,
        )
    except (namespaces.BuildError, namespaces.TargetImportError) as exc:
        cause = exc.__cause__
        if cause is not None:
            traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)
        print(f"ftsc: error: {exc}; no namespace written", file=sys.stderr)
        return EXIT_ERRORS
    except (
        namespaces.TargetError,
        namespaces.PrecisionError,
        namespaces.ReturnTypeError,
        namespaces.HFError,
        namespaces.PeftError,
    ) as exc:
        raise UsageError(str(exc)) from None
    namespace = result.namespace

    if result.allocated:
        shown = ", ".join(result.allocated[:_MAX_LISTED])
        more = len(result.allocated) - _MAX_LISTED
        print(
            f"ftsc: warning: {counted(len(result.allocated), 'parameter or buffer')} "
            f"{'was' if len(result.allocated) == 1 else 'were'} allocated off the meta "
            f"device (the model's code gives them an explicit device): {shown}"
            + (f" and {more} more" if more > 0 else ""),
            file=sys.stderr,
        )
    if to_stdout:
        sys.stdout.write(namespaces.namespace_json(namespace))
        return EXIT_OK
    try:
        namespaces.write_namespace(namespace, args.output)
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write the namespace ({exc.strerror or exc})") from None
    numel = namespace.total_numel(namespace.names)
    size = f" ({numel:,} elements)" if numel is not None else ""
    precision = getattr(result.precision, "precision", None)
    print(
        f"wrote {args.output}: {counted(len(namespace), 'parameter')}{size}, "
        f"{counted(len(namespace.aliases), 'alias')}, {counted(len(namespace.modules), 'module')}"
        f"{_trainable(namespace)}" + (f"; precision {precision}" if precision else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def _trainable(namespace: Namespace) -> str:
    """`; 48 trainable as built (…)` when the model froze part of itself (a PEFT model's base weights)."""
    trainable = [p.name for p in namespace.parameters if p.requires_grad]
    if len(trainable) == len(namespace):
        return ""
    numel = namespace.total_numel(trainable)
    return f"; {len(trainable)} trainable as built" + (f" ({numel:,} elements)" if numel is not None else "")


def _check_output(path: Path) -> None:
    """Fail before the (possibly slow) build when the output cannot be written where it is asked for."""
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give the namespace file to write")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"{path}: the folder {parent} does not exist")
