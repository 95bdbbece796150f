"""Finding adapters: built-ins, entry points (one broken), `module:Class` / `module.Class`, options, and E402."""

from __future__ import annotations

import warnings

import pytest
from adapters_support import GPT2, PluginSite

from ftsc.adapters import (
    AdapterError,
    AdapterLoadWarning,
    DefaultAdapter,
    Option,
    OptionError,
    StrategyAdapter,
    adapter_for_strategy,
    available_adapters,
    registry,
    resolve_adapter,
)
from ftsc.adapters.fsdp import FSDPAdapter
from ftsc.adapters.model_parallel import ModelParallelAdapter
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace, load_namespace
from ftsc.diagnostics import Diagnostic, Span

NAMES = ["embed.weight", "layers.0.w", "layers.1.w", "head.weight"]


@pytest.fixture(scope="module")
def toy() -> Namespace:
    return Namespace.from_names(NAMES, model="toy")


def at(text: str, needle: str) -> Span:
    start = text.index(needle)
    return Span(start, start + len(needle))


def codes(result: CompileResult, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == code]


# -- the registry ---------------------------------------------------------------------------------


def test_built_ins_resolve_without_discovering_plugins() -> None:
    registry.refresh()
    assert isinstance(resolve_adapter("default"), DefaultAdapter)
    assert isinstance(resolve_adapter("FSDP"), FSDPAdapter)  # names are case-insensitive
    assert isinstance(resolve_adapter("modelparallelstrategy"), ModelParallelAdapter)
    assert registry._DISCOVERED == {}  # lazy: no entry point was even listed


def test_discovery_warns_about_each_broken_plugin_and_the_others_still_work(plugin_site: PluginSite) -> None:
    registry.refresh()
    with pytest.warns(AdapterLoadWarning) as record:
        known = available_adapters()
    messages = [str(w.message) for w in record if issubclass(w.category, AdapterLoadWarning)]
    broken = next(m for m in messages if "`broken" in m)
    assert "ftsc_broken_adapter:BrokenAdapter" in broken
    assert "ImportError" in broken and "not_installed_dependency" in broken
    assert "ftsc-lens-adapter" in broken  # the distribution that registers it
    wrong = next(m for m in messages if "`notanadapter" in m)
    assert "not a StrategyAdapter" in wrong and "NotAnAdapter" in wrong
    shadow = next(m for m in messages if "`fsdp" in m)
    assert "is ignored: `fsdp` is a built-in adapter" in shadow
    assert len(messages) == 3  # ftsc's own kind of entry point (`default = ftsc.adapters.base:…`) is quiet
    assert isinstance(resolve_adapter("fsdp"), FSDPAdapter)
    assert known["broken"].error is not None and known["broken"].adapter is None
    assert known["lens"].error is None and known["lens"].adapter is not None
    assert {"default", "fsdp", "modelparallelstrategy"} <= {n for n, info in known.items() if info.builtin}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # discovery ran once: asking again warns no more
        assert resolve_adapter("lens").name == "lens"
    assert plugin_site.discovery_warnings  # the session's own discovery saw the same two


def test_asking_for_a_broken_plugin_is_an_error_that_names_it(plugin_site: PluginSite) -> None:
    with pytest.raises(AdapterError, match=r"`broken`.*ftsc_broken_adapter:BrokenAdapter.*ImportError"):
        resolve_adapter("broken")
    with pytest.raises(AdapterError, match=r"not a StrategyAdapter"):
        resolve_adapter("notanadapter")


@pytest.mark.parametrize(
    ("reference", "recorded"),
    [
        ("lens", "lens"),  # entry-point name
        ("ftsc_lens_adapter:LensAdapter", "ftsc_lens_adapter:LensAdapter"),
        ("ftsc_lens_adapter.LensAdapter", "ftsc_lens_adapter.LensAdapter"),
    ],
)
def test_custom_strategy_adapters_take_all_three_reference_formats(
    plugin_site: PluginSite, reference: str, recorded: str
) -> None:
    custom = {"single_device": reference, "ddp": "default"}
    adapter = adapter_for_strategy("single_device", custom, {"keep_unmapped": False})
    assert type(adapter).__name__ == "LensAdapter"
    assert adapter.reference == recorded
    assert adapter.config == {"keep_unmapped": False}  # strategy_adapter_cfg went to the constructor
    assert adapter.given == {"keep_unmapped": False}
    assert isinstance(adapter_for_strategy("DDP", custom), DefaultAdapter)  # flags are case-insensitive


def test_without_custom_adapters_the_flag_picks_a_built_in_or_a_plugin_of_that_name(
    plugin_site: PluginSite,
) -> None:
    assert isinstance(adapter_for_strategy("fsdp", None, {"use_orig_params": False}), FSDPAdapter)
    assert isinstance(adapter_for_strategy("modelparallelstrategy"), ModelParallelAdapter)
    for flag in ("single_device", "ddp", "auto", "deepspeed"):
        assert type(adapter_for_strategy(flag)) is DefaultAdapter
    assert (
        type(adapter_for_strategy("lens")).__name__ == "LensAdapter"
    )  # as FTS: a plugin named like the flag
    assert type(adapter_for_strategy("broken")) is DefaultAdapter  # a broken plugin is not picked


def test_a_flag_missing_from_custom_strategy_adapters_is_a_clear_error() -> None:
    with pytest.raises(
        AdapterError, match=r"strategy `fsdp` has no adapter in `custom_strategy_adapters`.*`ddp`"
    ):
        adapter_for_strategy("fsdp", {"ddp": "default"})


def test_references_that_do_not_name_an_adapter() -> None:
    with pytest.raises(AdapterError, match=r"unknown adapter `fsdpp`; did you mean `fsdp`\?"):
        resolve_adapter("fsdpp")
    with pytest.raises(AdapterError, match=r"importing `no_such_module_ftsc` raised ModuleNotFoundError"):
        resolve_adapter("no_such_module_ftsc.Adapter")
    with pytest.raises(AdapterError, match=r"module `json` has no `NoAdapter`"):
        resolve_adapter("json:NoAdapter")
    with pytest.raises(AdapterError, match=r"`json:dumps` is a function, which does not subclass"):
        resolve_adapter("json:dumps")
    with pytest.raises(AdapterError, match=r"`json.JSONDecoder` is class `JSONDecoder`"):
        adapter_for_strategy("ddp", {"ddp": "json.JSONDecoder"})


def test_options_through_the_python_api() -> None:
    with pytest.raises(
        OptionError, match=r"adapter `fsdp` has no option `autowrap`; did you mean `auto_wrap`\?"
    ):
        resolve_adapter("fsdp", {"autowrap": ["Block"]})
    with pytest.raises(OptionError, match=r"`use_orig_params` of adapter `fsdp` must be a bool .*not 'no'"):
        resolve_adapter("fsdp", {"use_orig_params": "no"})
    with pytest.raises(OptionError, match=r"must be a list of strings .*a JSON value"):
        resolve_adapter("fsdp", {"auto_wrap": [object()]})
    first, second = FSDPAdapter(), FSDPAdapter(auto_wrap=("Block",))
    assert first.config == {"auto_wrap": [], "use_orig_params": True}
    assert second.given == {"auto_wrap": ["Block"]}  # a tuple is stored as the JSON list the plan holds
    first.config["auto_wrap"].append("X")  # type: ignore[attr-defined]
    assert FSDPAdapter().config["auto_wrap"] == []  # defaults are never shared


def test_option_declarations_are_checked() -> None:
    assert Option("x", "table | list[table]").expected == "a table (`{ key = value, … }`) or a list of tables"
    with pytest.raises(ValueError, match="unknown option type 'dict'"):
        Option("x", "dict")


def test_the_runtime_face_is_a_set_of_documented_no_ops() -> None:
    adapter = DefaultAdapter()
    checkpoint: dict[str, object] = {"state_dict": {}}
    callback = object()
    adapter.connect(callback)
    assert adapter.callback is callback
    assert adapter.on_setup(None, None, {}) is None
    assert adapter.on_phase_start(1, ["a"]) is None
    assert adapter.on_save_checkpoint(checkpoint) is checkpoint
    assert adapter.on_load_checkpoint(checkpoint) is checkpoint
    assert adapter.state_dict() == {}
    for hook in ("on_setup", "on_phase_start", "on_save_checkpoint", "on_load_checkpoint", "connect"):
        assert "Run time" in (getattr(StrategyAdapter, hook).__doc__ or "")


# -- `use adapter` in a schedule (E402) -----------------------------------------------------------


def test_e402_unknown_adapter_with_a_did_you_mean_fix(toy: Namespace) -> None:
    text = "use adapter fsdpp\nphase a { thaw rest }\n"
    result = compile_schedule(text, toy)
    (diagnostic,) = codes(result, "E402")
    assert diagnostic.span == at(text, "fsdpp")
    assert "did you mean `fsdp`?" in diagnostic.message
    assert [fix.new_text for fix in diagnostic.fixes] == ["fsdp"]
    assert result.plan is None
    assert codes(result, "E101") == [] and codes(result, "I404") == []  # unknown names: not checked


def test_e402_unknown_option_and_option_given_twice(toy: Namespace) -> None:
    text = "use adapter fsdp { wrap_policy = [], use_orig_params = true, use_orig_params = true }\nphase { thaw rest }\n"
    result = compile_schedule(text, toy)
    (unknown,) = codes(result, "E402")
    assert unknown.span == at(text, "wrap_policy")
    assert "it accepts `auto_wrap`, `use_orig_params`" in unknown.message
    (twice,) = codes(result, "E302")
    assert twice.span.start == text.rindex("use_orig_params")


def test_e402_option_of_the_wrong_type_says_so(toy: Namespace) -> None:
    text = 'use adapter fsdp { use_orig_params = "no", auto_wrap = [Block] }\nphase { thaw rest }\n'
    result = compile_schedule(text, toy)
    wrong, unquoted = codes(result, "E402")
    assert wrong.span == at(text, '"no"')
    assert (
        wrong.message
        == 'option `use_orig_params` of adapter `fsdp` must be a bool (`true` or `false`), not "no"'
    )
    assert unquoted.span == at(text, "[Block]")
    assert "must be a list of strings, not a list" in unquoted.message


def test_e402_for_broken_plugins_named_in_a_schedule(plugin_site: PluginSite, toy: Namespace) -> None:
    text = "use adapter broken\nphase { thaw rest }\n"
    (diagnostic,) = codes(compile_schedule(text, toy), "E402")
    assert diagnostic.span == at(text, "broken")
    assert "ftsc_broken_adapter:BrokenAdapter" in diagnostic.message and "ImportError" in diagnostic.message
    text = "use adapter NotAnAdapter\nphase { thaw rest }\n"
    (diagnostic,) = codes(compile_schedule(text, toy), "E402")
    assert "not a StrategyAdapter" in diagnostic.message


def test_e402_use_adapter_twice(toy: Namespace) -> None:
    text = "use adapter default\nuse adapter fsdp\nphase { thaw rest }\n"
    result = compile_schedule(text, toy)
    (diagnostic,) = codes(result, "E402")
    assert diagnostic.span.start == text.index("use adapter fsdp")
    assert result.adapter_use is not None and result.adapter_use.name == "default"


class _Failing(StrategyAdapter):
    name = "failing"
    options = (Option("where", "str", default="namespace"),)

    def schedule_namespace(self, namespace: Namespace) -> Namespace:
        if self.config["where"] == "namespace":
            raise RuntimeError("no namespace for you")
        return namespace

    def to_canonical(self, schedule_name: str) -> tuple[str, ...]:
        return ("not.a.parameter",) if self.config["where"] == "translate" else (schedule_name,)

    def validate(self, result: CompileResult, namespace: Namespace) -> list[Diagnostic]:
        raise KeyError("validate")


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("namespace", "adapter `failing` cannot present this namespace: RuntimeError: no namespace for you"),
        ("translate", "it translates `embed.weight` to `not.a.parameter`, which is not a parameter"),
        ("validate", "adapter `failing` failed while checking the schedule: KeyError"),
    ],
)
def test_a_failing_adapter_is_an_e402_never_a_crash(toy: Namespace, where: str, message: str) -> None:
    adapter = _Failing(where=where)
    adapter.reference = "failing"
    result = compile_schedule("phase { thaw rest }\n", toy, adapter=adapter)
    (diagnostic,) = codes(result, "E402")
    assert message in diagnostic.message
    assert result.plan is None


def test_an_adapter_instance_wins_over_use_adapter(toy: Namespace) -> None:
    adapter = resolve_adapter("fsdp", {"auto_wrap": ["layers.*"]})
    result = compile_schedule("use adapter nonsense { x = 1 }\nphase { thaw rest }\n", toy, adapter=adapter)
    assert result.diagnostics == []
    assert result.plan is not None
    namespace = result.plan["namespace"]
    assert isinstance(namespace, dict)
    assert (namespace["adapter"], namespace["adapter_options"]) == ("fsdp", {"auto_wrap": ["layers.*"]})


def test_the_default_adapter_plan_is_unchanged() -> None:
    gpt2 = load_namespace(GPT2)
    result = compile_schedule("phase { thaw transformer.ln_f.* }\nphase { thaw rest }\n", gpt2)
    assert result.plan is not None
    assert result.translation is not None and result.translation.identity
    assert result.schedule_namespace is gpt2
    assert result.canonical_params == result.phase_params
    namespace = result.plan["namespace"]
    assert isinstance(namespace, dict)
    assert (namespace["adapter"], namespace["adapter_options"]) == ("default", {})
