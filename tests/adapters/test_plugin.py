"""The third-party `lens` plugin end to end: GPT-2 schedules in TransformerLens-style names compile to plans
in the model's own names."""

from __future__ import annotations

from pathlib import Path

from adapters_support import GPT2, PluginSite, at, run

from ftsc.adapters import resolve_adapter
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.files import compile_file
from ftsc.compiler.namespace import Namespace
from ftsc.diagnostics import Diagnostic

LENS = """\
use adapter lens
phase top {
    thaw ln_final.*, blocks.{10..11}.**
    until epoch 1
}
phase attention {
    thaw blocks.{6..9}.attn.{W_Q,W_K,W_V}, blocks.{6..9}.attn.W_O
}
phase rest {
    thaw rest except embed.W_E, unembed.W_U
}
"""


def only(result: CompileResult, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == code]


def phase_params(result: CompileResult) -> list[list[str]]:
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    return [phase["params"] for phase in phases]


def test_a_lens_schedule_compiles_to_a_plan_of_canonical_names(
    plugin_site: PluginSite, gpt2: Namespace
) -> None:
    result = run(LENS, gpt2)
    assert [d.code for d in result.diagnostics] == ["W208"]  # embed.W_E and unembed.W_U, left out on purpose
    assert "2 parameters are never thawed" in result.diagnostics[0].message
    top, attention, rest = phase_params(result)
    assert top[:3] == [
        "transformer.h.10.ln_1.weight",
        "transformer.h.10.ln_1.bias",
        "transformer.h.10.attn.c_attn.weight",
    ]
    assert top[-2:] == ["transformer.ln_f.weight", "transformer.ln_f.bias"]  # canonical namespace order
    assert len(top) == 2 * 12 + 2
    # W_Q, W_K and W_V are one fused tensor: listed once per block, then W_O's c_proj
    assert attention == [
        f"transformer.h.{block}.attn.{part}.weight" for block in range(6, 10) for part in ("c_attn", "c_proj")
    ]
    assert len(rest) == 148 - 26 - 8 - 1
    assert result.plan is not None
    assert result.plan["frozen"] == ["transformer.wte.weight"]
    namespace = result.plan["namespace"]
    assert isinstance(namespace, dict)
    assert namespace["adapter"] == "lens"
    assert namespace["fingerprint"] == gpt2.fingerprint()  # the model's namespace, not the schedule's
    assert namespace["size"] == 148
    every = [name for params in phase_params(result) for name in params]
    assert len(every) == len(set(every))
    assert set(every) <= set(gpt2.names)


def test_selectors_resolve_against_the_lens_names(plugin_site: PluginSite, gpt2: Namespace) -> None:
    result = run(LENS, gpt2)
    schedule = result.schedule_namespace
    assert schedule is not None and schedule is not gpt2
    assert schedule.names[:4] == ("embed.W_E", "unembed.W_U", "pos_embed.W_pos", "blocks.0.ln1.w")
    matched = result.matches[at(LENS, "blocks.{6..9}.attn.W_O")]
    assert [schedule.names[p] for p in matched] == [f"blocks.{block}.attn.W_O" for block in range(6, 10)]
    assert compile_schedule(LENS, gpt2).schedule_namespace is schedule  # kept per (options, namespace)
    text = "use adapter lens\nphase { thaw transformer.h.0.** }\nphase { thaw rest }\n"
    (unknown,) = only(run(text, gpt2), "E101")  # canonical names are not what a lens schedule is written in
    assert unknown.span == at(text, "transformer.h.0.**")


def test_two_phases_thawing_one_fused_tensor_is_e201(plugin_site: PluginSite, gpt2: Namespace) -> None:
    text = "use adapter lens\nphase q { thaw blocks.3.attn.W_Q }\nphase kv { thaw blocks.3.attn.{W_K,W_V} }\n"
    result = run(text, gpt2)
    (conflict,) = only(result, "E201")  # once, on the later phase, against the first
    assert conflict.span == at(text, "blocks.3.attn.{W_K,W_V}")
    assert (
        "`blocks.3.attn.W_K` thawed here and `blocks.3.attn.W_Q` thawed by phase 0 `q` are one parameter"
        in (conflict.message)
    )
    assert "`transformer.h.3.attn.c_attn.weight`" in conflict.message
    assert [r.span for r in conflict.related] == [at(text, "blocks.3.attn.W_Q")]
    assert result.plan is None


def test_a_thaw_that_takes_along_names_it_does_not_select_is_w210(
    plugin_site: PluginSite, gpt2: Namespace
) -> None:
    text = "use adapter lens\nphase q { thaw blocks.{0..1}.attn.W_Q }\n"
    result = run(text, gpt2)
    (along,) = only(result, "W210")
    assert along.span == at(text, "blocks.{0..1}.attn.W_Q")
    assert "also thaws 4 names it does not select (e.g. `blocks.0.attn.W_K`)" in along.message
    assert along.data["taken_along"] == 4
    (never,) = only(result, "W208")
    schedule = result.schedule_namespace
    assert schedule is not None
    assert never.data["never_thawed"] == len(schedule) - 6  # the 2 W_Q, and the 4 W_K / W_V taken along
    assert phase_params(result) == [
        ["transformer.h.0.attn.c_attn.weight", "transformer.h.1.attn.c_attn.weight"]
    ]


def test_plugin_options_are_checked_like_any_adapters(plugin_site: PluginSite, gpt2: Namespace) -> None:
    text = "use adapter lens { keep_unmapped = 1, fold = true }\nphase { thaw rest }\n"
    wrong, unknown = only(run(text, gpt2), "E402")
    assert (
        wrong.message
        == "option `keep_unmapped` of adapter `lens` must be a bool (`true` or `false`), not `1`"
    )
    assert unknown.span == at(text, "fold")
    assert "(it accepts `keep_unmapped`)" in unknown.message


def test_unmapped_parameters_keep_their_names_or_are_hidden(plugin_site: PluginSite) -> None:
    namespace = Namespace.from_names(["transformer.wte.weight", "score.weight"], model="gpt2-classifier")
    text = "use adapter lens\nphase head { thaw score.weight }\nphase rest { thaw rest }\n"
    assert phase_params(run(text, namespace)) == [["score.weight"], ["transformer.wte.weight"]]
    hidden = text.replace("use adapter lens", "use adapter lens { keep_unmapped = false }")
    result = run(hidden, namespace)
    assert [d.code for d in result.diagnostics] == ["E101"]


def test_the_broken_plugins_do_not_stop_the_lens_plugin(plugin_site: PluginSite, gpt2: Namespace) -> None:
    assert any("`broken" in message for message in plugin_site.discovery_warnings)
    assert run(LENS, gpt2).plan is not None


def test_compile_file_with_a_module_reference_override(
    plugin_site: PluginSite, gpt2: Namespace, tmp_path: Path
) -> None:
    text = f'use namespace "{GPT2}"\n' + LENS.replace("use adapter lens\n", "")
    result = compile_file(text, tmp_path / "x.fts", adapter="ftsc_lens_adapter:LensAdapter")
    assert result.plan is not None
    assert result.plan["namespace"]["adapter"] == "ftsc_lens_adapter:LensAdapter"  # type: ignore[index]
    instance = resolve_adapter("lens")
    assert compile_file(text, tmp_path / "x.fts", adapter=instance).plan == {
        **result.plan,
        "namespace": {**result.plan["namespace"], "adapter": "lens"},  # type: ignore[dict-item]
    }
