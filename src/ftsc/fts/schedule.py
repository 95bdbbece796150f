"""Read an FTS schedule (the YAML tree, with spans) the way FTS reads it, into phases ready to translate.

What FTS does, and so what this does (`finetuning_scheduler/fts_supporters.py`, `ScheduleParsingMixin`):

- Phase keys go through `int()` (`"1"` and `1.5` both become 1); the phases run by number, and numbers
  that are not 0..N-1 make FTS refuse the file after writing a renumbered copy (W506). We number them in
  sorted order, as that copy does.
- A phase reads `params`, `max_transition_epoch`, `lr`, `new_optimizer` and `new_lr_scheduler`, and
  ignores every other key without a word (W505). `new_optimizer` reads `optimizer_init`
  (`class_path`, `init_args`); `new_lr_scheduler` reads `lr_scheduler_init`, `pl_lrs_cfg`, `init_pg_lrs`
  and `use_current_optimizer_pg_lrs`.
- `params` entries are strings (anything else goes through `f"{p}"`); a missing `params` is an empty phase.
- PyYAML reads `1e-5` as a string (YAML 1.1 floats need a dot and a signed exponent). FTS checks an `lr`
  with `float()` and then passes the string on; we read the number meant, with W507.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

from ftsc import codes
from ftsc.codes import Code
from ftsc.diagnostics import Diagnostic, Related, Span, diagnose
from ftsc.fts.yaml_source import YMap, YNode, YScalar, YSeq, duplicate_key

PHASE_KEYS = ("params", "max_transition_epoch", "lr", "new_optimizer", "new_lr_scheduler")
NEW_OPTIMIZER_KEYS = ("optimizer_init",)
NEW_LR_SCHEDULER_KEYS = ("lr_scheduler_init", "pl_lrs_cfg", "init_pg_lrs", "use_current_optimizer_pg_lrs")
CLASS_INIT_KEYS = ("class_path", "init_args")
# Lightning's LRSchedulerConfig fields that a schedule may set; FTS warns about and drops any other key.
PL_LRS_CFG_KEYS = ("interval", "frequency", "monitor", "name", "strict", "reduce_on_plateau")

_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Words that cannot be a key in a `.fts` table or call (statement keywords are reserved everywhere).
RESERVED = frozenset({"fts", "use", "let", "defaults", "phase", "thaw", "until"})


@dataclass(frozen=True)
class Entry:
    """One `params` entry: its text as FTS sees it, and where it stands in the YAML."""

    text: str
    span: Span
    text_start: int | None  # source offset of text[0], when the scalar's source text is the value itself

    def sub_span(self, start: int, end: int) -> Span:
        """The span of text[start:end], or the whole entry when the source does not spell the text."""
        if self.text_start is None:
            return self.span
        return Span(self.text_start + start, self.text_start + end)


@dataclass(frozen=True)
class ClassInit:
    """`optimizer_init` / `lr_scheduler_init`: a class to build, and its keyword arguments."""

    class_path: str
    init_args: dict[str, object]
    span: Span


@dataclass
class FtsPhase:
    number: int  # FTS's phase number (the key after `int()`)
    key_span: Span
    entries: list[Entry] = field(default_factory=list)
    until: int | None = None
    lr: float | int | None = None
    optimizer: ClassInit | None = None
    lr_scheduler: ClassInit | None = None
    lr_scheduler_config: dict[str, object] | None = None
    init_pg_lrs: list[float | int] | None = None
    use_current_optimizer_pg_lrs: bool | None = None
    key_spans: dict[str, Span] = field(default_factory=dict)  # each key of the phase (`lr`, `new_optimizer`)


@dataclass
class FtsSchedule:
    phases: list[FtsPhase]  # in the order FTS runs them (by number)


class _Stop(Exception):
    """A value FTS would refuse or crash on: the phase (or file) cannot be translated."""


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.diagnostics: list[Diagnostic] = []

    def fail(self, message: str, span: Span, code: Code = codes.FTS_BAD_SCHEDULE) -> _Stop:
        self.diagnostics.append(diagnose(code, message, span))
        return _Stop()

    # -- the whole file ------------------------------------------------------------------------------

    def schedule(self, root: YNode | None) -> FtsSchedule | None:
        if root is None:
            self.fail(
                "the file holds no schedule: FTS expects a mapping of phase numbers to phases", Span(0, 0)
            )
            return None
        if not isinstance(root, YMap):
            self.fail("an FTS schedule is a mapping of phase numbers (0, 1, …) to phases", root.span)
            return None
        phases: dict[int, FtsPhase] = {}
        keys: dict[int, YScalar] = {}
        order: list[int] = []
        failed = False
        for key, value in root.pairs:
            try:
                number = self.phase_number(key)
                if number in keys and keys[number].value != getattr(key, "value", None):
                    note = (
                        f" (as phase {number}: FTS converts phase keys with `int()`, silently keeping the "
                        "later)"
                    )
                    assert isinstance(key, YScalar)
                    self.diagnostics.append(duplicate_key(key, keys[number], note))
                assert isinstance(key, YScalar)
                keys[number] = key
                phases[number] = self.phase(number, key, value)
                order.append(number)
            except _Stop:
                failed = True
        if failed:
            return None
        self.check_numbers(order, keys)
        return FtsSchedule([phases[number] for number in sorted(phases)])

    def phase_number(self, key: YNode) -> int:
        """`int(key)`, as FTS's `_convert_phase_keys` does; a key it cannot convert is refused."""
        if not isinstance(key, YScalar):
            raise self.fail("a phase key must be a number (0, 1, …), not a collection", key.span)
        value = key.value
        try:
            if isinstance(value, (bool, int, float, str)):
                number = int(value)
            else:
                raise ValueError
        except (ValueError, OverflowError):
            shown = value if isinstance(value, str) else repr(value)
            raise self.fail(
                f"phase key `{shown}` is not a number: FTS converts phase keys with `int()` and refuses "
                "the file",
                key.span,
            ) from None
        if isinstance(value, (bool, float)) and not (isinstance(value, float) and value == number):
            self.diagnostics.append(
                diagnose(
                    codes.FTS_PHASE_ORDER,
                    f"phase key `{value}` is read by FTS as phase {number} (`int()`)",
                    key.span,
                )
            )
        return number

    def check_numbers(self, order: list[int], keys: dict[int, YScalar]) -> None:
        numbers = sorted(keys)
        if numbers != list(range(len(numbers))):
            expected = next((i for i, n in enumerate(numbers) if n != i), len(numbers))
            first = keys[numbers[expected]]
            shown = ", ".join(str(n) for n in numbers)
            self.diagnostics.append(
                diagnose(
                    codes.FTS_PHASE_ORDER,
                    f"phases are numbered {shown}: FTS needs 0..{len(numbers) - 1} and refuses the file (it "
                    "writes a renumbered copy); the phases are taken in that order, numbered from 0",
                    first.span,
                )
            )
            return
        seen: list[int] = []
        for number in dict.fromkeys(order):
            if seen and number < seen[-1]:
                earlier = keys[seen[-1]]
                self.diagnostics.append(
                    diagnose(
                        codes.FTS_PHASE_ORDER,
                        f"phase {number} comes after phase {seen[-1]} in the file: FTS runs phases by "
                        "number, and so do the translated phases",
                        keys[number].span,
                        related=[Related(earlier.span, f"phase {seen[-1]} is here")],
                    )
                )
                return
            seen.append(number)

    # -- one phase -----------------------------------------------------------------------------------

    def phase(self, number: int, key: YScalar, node: YNode) -> FtsPhase:
        if not isinstance(node, YMap):
            empty = isinstance(node, YScalar) and node.value is None
            raise self.fail(
                f"phase {number} is {'empty' if empty else 'not a mapping'}: a phase is a mapping with "
                "`params` (and optionally `max_transition_epoch`, `lr`, `new_optimizer`, `new_lr_scheduler`)",
                key.span if empty else node.span,
            )
        phase = FtsPhase(number, key.span)
        pairs = self.known_pairs(node, PHASE_KEYS, f"phase {number}")
        failed = False
        for name, (name_node, value) in pairs.items():
            try:
                self.phase_key(phase, name, name_node, value)
            except _Stop:
                failed = True
        if failed:
            raise _Stop
        return phase

    def phase_key(self, phase: FtsPhase, name: str, name_node: YScalar, value: YNode) -> None:
        phase.key_spans[name] = name_node.span
        if name == "params":
            phase.entries = self.entries(phase.number, value)
        elif name == "max_transition_epoch":
            phase.until = self.epoch(value)
        elif name == "lr":
            phase.lr = self.number(value, "`lr`", positive=phase.number > 0)
        elif name == "new_optimizer":
            self.new_optimizer(phase, name_node, value)
        elif name == "new_lr_scheduler":
            self.new_lr_scheduler(phase, name_node, value)

    def known_pairs(self, node: YMap, known: tuple[str, ...], where: str) -> dict[str, tuple[YScalar, YNode]]:
        """The pairs with known keys (the later of a repeated key); W505 for each unknown key."""
        pairs: dict[str, tuple[YScalar, YNode]] = {}
        for key, value in node.pairs:
            if isinstance(key, YScalar) and isinstance(key.value, str) and key.value in known:
                pairs[key.value] = (key, value)
                continue
            shown = key.value if isinstance(key, YScalar) else "…"
            close = difflib.get_close_matches(str(shown), list(known), n=1, cutoff=0.6)
            hint = (
                f"; did you mean `{close[0]}`?"
                if close
                else f" (FTS reads {', '.join(f'`{k}`' for k in known)})"
            )
            self.diagnostics.append(
                diagnose(
                    codes.FTS_UNKNOWN_KEY,
                    f"unknown key `{shown}` in {where}: FTS ignores it without a word{hint}",
                    key.span,
                )
            )
        return pairs

    def entries(self, number: int, node: YNode) -> list[Entry]:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            raise self.fail(
                "`params` must be a list of names or regexes: FTS would read this string one character at a "
                "time (write `- " + node.value + "`)",
                node.span,
            )
        if not isinstance(node, YSeq):
            raise self.fail(f"`params` of phase {number} must be a list of names or regexes", node.span)
        entries = []
        for item in node.items:
            if not isinstance(item, YScalar):
                raise self.fail("a `params` entry must be a name or a regex, not a collection", item.span)
            text = item.value if isinstance(item.value, str) else f"{item.value}"
            entries.append(Entry(text, item.span, self.text_start(item, text)))
        return entries

    def text_start(self, item: YScalar, text: str) -> int | None:
        source = self.text[item.span.start : item.span.end]
        if source == text:
            return item.span.start
        if len(source) >= 2 and source[0] in "'\"" and source[1:-1] == text:
            return item.span.start + 1
        return None

    def epoch(self, node: YNode) -> int | None:
        value = self.number(node, "`max_transition_epoch`", positive=False)
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(
                    f"`max_transition_epoch: {value}` is not a whole number of epochs; `until epoch` needs "
                    "one",
                    node.span,
                    codes.FTS_INEXPRESSIBLE,
                )
            value = int(value)
        return value if value >= 0 else None  # FTS: a negative epoch (default -1) means no epoch transition

    def number(self, node: YNode, what: str, *, positive: bool) -> float | int:
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = self.string_number(node, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(f"{what} must be a number, not `{_shown(node)}`", node.span)
        if positive and value <= 0:
            raise self.fail(
                f"{what} must be greater than 0 to be written in `.fts`, not {value}",
                node.span,
                codes.FTS_INEXPRESSIBLE,
            )
        return value

    def string_number(self, node: YNode, value: str) -> float | int:
        text = value.strip()
        number: float | int = int(text) if re.fullmatch(r"[-+]?[0-9]+", text) else float(text)
        self.diagnostics.append(
            diagnose(
                codes.FTS_NUMBER_STRING,
                f"`{value}` is a string to YAML 1.1 (PyYAML, which FTS uses: a float needs a dot and a "
                "signed exponent, as in `1.0e-5`), so FTS would pass the string on; read here as the number "
                f"{number!r}",
                node.span,
            )
        )
        return number

    # -- optimizer and lr scheduler ------------------------------------------------------------------

    def reinit_in_phase0(self, phase: FtsPhase, name_node: YScalar) -> None:
        if phase.number == 0:
            raise self.fail(
                f"`{name_node.value}` in phase 0: FTS refuses it (phase 0 trains with the optimizer and lr "
                "scheduler of your LightningModule)",
                name_node.span,
            )

    def new_optimizer(self, phase: FtsPhase, name_node: YScalar, node: YNode) -> None:
        if _empty(node):
            return  # FTS skips a falsy `new_optimizer`
        self.reinit_in_phase0(phase, name_node)
        block = self.mapping(node, "`new_optimizer`")
        pairs = self.known_pairs(block, NEW_OPTIMIZER_KEYS, "`new_optimizer`")
        if "optimizer_init" not in pairs:
            raise self.fail(
                "`new_optimizer` needs an `optimizer_init` with a `class_path` (FTS refuses it)", node.span
            )
        phase.optimizer = self.class_init(pairs["optimizer_init"][1], "optimizer_init")

    def new_lr_scheduler(self, phase: FtsPhase, name_node: YScalar, node: YNode) -> None:
        if _empty(node):
            return
        self.reinit_in_phase0(phase, name_node)
        block = self.mapping(node, "`new_lr_scheduler`")
        pairs = self.known_pairs(block, NEW_LR_SCHEDULER_KEYS, "`new_lr_scheduler`")
        if "lr_scheduler_init" not in pairs:
            raise self.fail(
                "`new_lr_scheduler` needs an `lr_scheduler_init` with a `class_path` (FTS refuses it)",
                node.span,
            )
        phase.lr_scheduler = self.class_init(pairs["lr_scheduler_init"][1], "lr_scheduler_init")
        if "pl_lrs_cfg" in pairs:
            phase.lr_scheduler_config = self.lr_scheduler_config(pairs["pl_lrs_cfg"][1], phase.lr_scheduler)
        if "init_pg_lrs" in pairs:
            lrs = pairs["init_pg_lrs"][1]
            if not isinstance(lrs, YSeq):
                raise self.fail("`init_pg_lrs` must be a list of lrs", lrs.span)
            phase.init_pg_lrs = [
                self.number(item, "an `init_pg_lrs` lr", positive=True) for item in lrs.items
            ]
        if "use_current_optimizer_pg_lrs" in pairs:
            flag = pairs["use_current_optimizer_pg_lrs"][1]
            if not (isinstance(flag, YScalar) and isinstance(flag.value, bool)):
                raise self.fail(
                    "`use_current_optimizer_pg_lrs` must be `true` or `false`",
                    flag.span,
                    codes.FTS_INEXPRESSIBLE,
                )
            phase.use_current_optimizer_pg_lrs = flag.value

    def mapping(self, node: YNode, what: str) -> YMap:
        if not isinstance(node, YMap):
            raise self.fail(f"{what} must be a mapping", node.span)
        return node

    def class_init(self, node: YNode, what: str) -> ClassInit:
        block = self.mapping(node, f"`{what}`")
        pairs = self.known_pairs(block, CLASS_INIT_KEYS, f"`{what}`")
        path_node = pairs.get("class_path", (None, None))[1]
        if not (isinstance(path_node, YScalar) and isinstance(path_node.value, str) and path_node.value):
            raise self.fail(f"`{what}` needs a `class_path` (FTS refuses it without one)", block.span)
        if not _DOTTED.fullmatch(path_node.value):
            raise self.fail(
                f"`class_path: {path_node.value}` is not a dotted class name",
                path_node.span,
                codes.FTS_INEXPRESSIBLE,
            )
        init_args: dict[str, object] = {}
        if "init_args" in pairs and not _empty(pairs["init_args"][1]):
            args = self.mapping(pairs["init_args"][1], "`init_args`")
            init_args = self.table(args, "an argument name")
        return ClassInit(path_node.value, init_args, block.span)

    def lr_scheduler_config(self, node: YNode, scheduler: ClassInit) -> dict[str, object]:
        block = self.mapping(node, "`pl_lrs_cfg`")
        config = self.table(block, "a `pl_lrs_cfg` key")
        for key_node, _ in block.pairs:
            key = key_node.value if isinstance(key_node, YScalar) else None
            if key not in PL_LRS_CFG_KEYS:
                close = difflib.get_close_matches(str(key), list(PL_LRS_CFG_KEYS), n=1, cutoff=0.6)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                self.diagnostics.append(
                    diagnose(
                        codes.FTS_UNKNOWN_KEY,
                        f"unknown key `{key}` in `pl_lrs_cfg`: FTS drops it (with a warning at the phase "
                        f"transition){hint}",
                        key_node.span,
                    )
                )
                config.pop(str(key), None)
        plateau = scheduler.class_path.rsplit(".", 1)[-1] == "ReduceLROnPlateau"
        if "reduce_on_plateau" in config and config.pop("reduce_on_plateau") != plateau:
            pair = block.get("reduce_on_plateau")
            assert pair is not None
            raise self.fail(
                "`reduce_on_plateau` that disagrees with the scheduler class cannot be written in `.fts` "
                "(it follows from the class there)",
                pair[0].span,
                codes.FTS_INEXPRESSIBLE,
            )
        interval = config.get("interval")
        if interval is not None and interval not in ("step", "epoch"):
            pair = block.get("interval")
            assert pair is not None
            raise self.fail('`interval` must be "step" or "epoch" (FTS refuses anything else)', pair[1].span)
        return config

    # -- free values (constructor arguments, scheduler config) ---------------------------------------

    def table(self, node: YMap, what: str) -> dict[str, object]:
        values: dict[str, object] = {}
        for key, value in node.pairs:
            name = key.value if isinstance(key, YScalar) else None
            if not isinstance(name, str) or not _NAME.fullmatch(name) or name in RESERVED:
                raise self.fail(
                    f"`{_shown(key)}` cannot be {what} in `.fts` (it needs a plain name)",
                    key.span,
                    codes.FTS_INEXPRESSIBLE,
                )
            values[name] = self.value(value)
        return values

    def value(self, node: YNode) -> object:
        if isinstance(node, YSeq):
            return [self.value(item) for item in node.items]
        if isinstance(node, YMap):
            return self.table(node, "a table key")
        value = node.value
        if (
            isinstance(value, str)
            and node.plain
            and _NUMBER.fullmatch(value)
            and not value.lstrip("+-").isdigit()
        ):
            return self.string_number(node, value)
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise self.fail(f"`{_shown(node)}` cannot be written in `.fts`", node.span, codes.FTS_INEXPRESSIBLE)


def _empty(node: YNode) -> bool:
    if isinstance(node, YScalar):
        return not node.value
    return not _items(node)


def _items(node: YMap | YSeq) -> tuple[object, ...]:
    return node.pairs if isinstance(node, YMap) else node.items


def _shown(node: YNode) -> str:
    if isinstance(node, YScalar):
        return str(node.value)
    return "a list" if isinstance(node, YSeq) else "a mapping"


def read_schedule(root: YNode | None, text: str) -> tuple[FtsSchedule | None, list[Diagnostic]]:
    """The phases of an FTS schedule, in the order FTS runs them; None when FTS would refuse the file."""
    reader = _Reader(text)
    schedule = reader.schedule(root)
    return schedule, reader.diagnostics
