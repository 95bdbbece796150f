"""`use adapter NAME { options }`: which strategy adapter presents the namespace, and its options (E402).

Strategy adapters decide the names a schedule is written against and add checks of their own (for
example E403 for flat-parameter FSDP) through the compiler's `validators`. Only the built-in
`default` adapter (single device, DDP) is known here; the plugin registry extends `KNOWN`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ftsc.compiler import settings
from ftsc.diagnostics import Diagnostic, Fix, Span, error
from ftsc.grammar import ast

# adapter name -> the options it accepts
KNOWN: dict[str, tuple[str, ...]] = {"default": ()}


@dataclass
class AdapterUse:
    name: str = "default"
    options: dict[str, object] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check_use_adapter(schedule: ast.Schedule) -> AdapterUse:
    use = AdapterUse()
    for position, item in enumerate(schedule.adapters):
        if position > 0:
            use.diagnostics.append(error("E402", "`use adapter` is given more than once", item.span))
            continue
        if item.name is None or item.name_span is None:
            continue
        if item.name not in KNOWN:
            use.diagnostics.append(_unknown_adapter(item.name, item.name_span))
            continue
        use.name = item.name
        accepted = KNOWN[item.name]
        for entry in item.options.entries if item.options is not None else ():
            if entry.key not in accepted:
                accepts = ", ".join(f"`{option}`" for option in accepted) or "no options"
                use.diagnostics.append(
                    error("E402", f"adapter `{item.name}` has no option `{entry.key}` (it accepts {accepts})",
                          entry.key_span)
                )  # fmt: skip
            elif entry.value is not None:
                use.options[entry.key] = settings.to_plan(entry.value)
    return use


def _unknown_adapter(name: str, span: Span) -> Diagnostic:
    close = difflib.get_close_matches(name, list(KNOWN), n=1)
    known = ", ".join(f"`{known}`" for known in sorted(KNOWN))
    if close:
        fix = Fix(f"Replace with `{close[0]}`", span, close[0])
        return error("E402", f"unknown adapter `{name}`; did you mean `{close[0]}`?", span, fixes=[fix])
    return error("E402", f"unknown adapter `{name}` (known: {known})", span)
