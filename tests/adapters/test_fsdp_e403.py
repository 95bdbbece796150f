"""`fsdp`: E403 finds flat-parameter units that a schedule splits (GPT-2, `auto_wrap = ["GPT2Block"]`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adapters_support import GPT2, at, run

from ftsc.adapters.fsdp import FSDPAdapter
from ftsc.cli import main
from ftsc.compiler.compile import CompileResult
from ftsc.compiler.modules import units_of
from ftsc.compiler.namespace import Namespace
from ftsc.diagnostics import Diagnostic

FLAT = 'use adapter fsdp { auto_wrap = ["GPT2Block"], use_orig_params = false }\n'
ORIG = 'use adapter fsdp { auto_wrap = ["GPT2Block"], use_orig_params = true }\n'
SPLIT_BLOCK = "phase head { thaw transformer.h.11.mlp.** }\nphase body { thaw rest }\n"


def e403(result: CompileResult) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == "E403"]


def test_use_orig_params_defaults_to_lightnings_fsdp_strategy_default() -> None:
    from lightning.pytorch.strategies import FSDPStrategy

    option = FSDPAdapter.option("use_orig_params")
    assert option is not None
    assert option.default is FSDPStrategy().kwargs["use_orig_params"] is True


def test_a_split_block_is_e403_at_both_sites_naming_the_unit_and_the_fixes(gpt2: Namespace) -> None:
    text = FLAT + SPLIT_BLOCK
    result = run(text, gpt2)
    head, body = sorted(e403(result), key=lambda d: d.span.start)
    assert head.span == at(text, "transformer.h.11.mlp.**")
    assert body.span == at(text, "rest")
    assert "FSDP unit `transformer.h.11` (GPT2Block)" in head.message
    assert (
        "it thaws 4 of its 12 parameters in phase 0 `head`, while 8 are thawed by phase 1 `body`"
        in head.message
    )
    for fix in ("thaw all of `transformer.h.11.**` in one phase", "`auto_wrap`", "`use_orig_params = true`"):
        assert fix in head.message
    assert "gradient memory" in head.message  # what use_orig_params = true costs
    assert [r.span for r in head.related] == [at(text, "rest")]
    assert (
        "phase 1 `body` thaws other parameters of `transformer.h.11` (GPT2Block)" in head.related[0].message
    )
    assert [r.span for r in body.related] == [at(text, "transformer.h.11.mlp.**")]
    assert head.data["units"] == ["transformer.h.11"]
    assert result.plan is None


def test_no_e403_with_use_orig_params_true_or_by_default(gpt2: Namespace) -> None:
    for header in (ORIG, 'use adapter fsdp { auto_wrap = ["GPT2Block"] }\n'):
        result = run(header + SPLIT_BLOCK, gpt2)
        assert result.diagnostics == []
        assert result.plan is not None
        namespace = result.plan["namespace"]
        assert isinstance(namespace, dict)
        assert namespace["adapter"] == "fsdp"
        assert namespace["fingerprint"] == gpt2.fingerprint()
    plan = run(ORIG + SPLIT_BLOCK, gpt2).plan
    assert plan is not None
    assert plan["namespace"]["adapter_options"] == {"auto_wrap": ["GPT2Block"], "use_orig_params": True}  # type: ignore[index]


def test_whole_units_in_each_phase_are_fine(gpt2: Namespace) -> None:
    text = FLAT + (
        "phase top { thaw transformer.h.{10..11}.** }\n"
        "phase middle { thaw transformer.h.{0..9}.** }\n"
        "phase embeddings { thaw rest }\n"  # the root unit: wte, wpe, ln_f, whole
    )
    result = run(text, gpt2)
    assert result.diagnostics == []
    assert result.plan is not None


def test_the_root_unit_holds_what_no_wrapped_module_does(gpt2: Namespace) -> None:
    text = FLAT + "phase top { thaw transformer.ln_f.*, transformer.h.11.** }\nphase rest { thaw rest }\n"
    result = run(text, gpt2)
    top = next(d for d in e403(result) if d.span == at(text, "transformer.ln_f.*"))
    assert (
        "the root FSDP unit (the parameters outside every wrapped module, e.g. `transformer.wte.weight`)"
        in (top.message)
    )
    assert "it thaws 2 of its 4 parameters" in top.message
    assert all(d.span != at(text, "transformer.h.11.**") for d in e403(result))  # that block is whole


def test_part_of_a_unit_never_thawed_is_a_split_too(gpt2: Namespace) -> None:
    text = FLAT + "phase all { thaw rest except transformer.h.0.mlp.** }\n"
    (diagnostic,) = e403(run(text, gpt2))
    assert diagnostic.span == at(text, "rest")
    assert "4 are never thawed (e.g. `transformer.h.0.mlp.c_fc.weight`)" in diagnostic.message
    assert diagnostic.related == ()


def test_one_selector_splitting_many_units_is_one_diagnostic(gpt2: Namespace) -> None:
    text = FLAT + "phase mlps { thaw transformer.h.*.mlp.** }\nphase rest { thaw rest }\n"
    result = run(text, gpt2)
    mlps = next(d for d in e403(result) if d.span == at(text, "transformer.h.*.mlp.**"))
    assert "splits 12 FSDP units in phase 0 `mlps`" in mlps.message
    assert "`transformer.h.0` (GPT2Block): 4 of 12 here, 8 are thawed by phase 1 `rest`" in mlps.message
    assert "and 9 more" in mlps.message
    assert len(mlps.data["units"]) == 12  # type: ignore[arg-type]


def test_innermost_wrapped_module_owns_its_parameters(gpt2: Namespace) -> None:
    header = 'use adapter fsdp { auto_wrap = ["GPT2Block", "GPT2MLP"], use_orig_params = false }\n'
    result = run(header + SPLIT_BLOCK, gpt2)
    assert e403(result) == []  # h.11.mlp is a unit of its own, and h.11 without it is thawed whole
    units = units_of(gpt2, {"transformer.h.11", "transformer.h.11.mlp"})
    assert [gpt2.names[p] for p in units["transformer.h.11.mlp"]] == [
        f"transformer.h.11.mlp.{name}"
        for name in ("c_fc.weight", "c_fc.bias", "c_proj.weight", "c_proj.bias")
    ]
    assert len(units["transformer.h.11"]) == 8 and len(units[""]) == 148 - 12


def test_auto_wrap_by_module_name_pattern_and_qualified_type(gpt2: Namespace) -> None:
    for entry in (
        '"transformer.h.*"',
        '"transformer.h.{0..11}"',
        '"transformers.models.gpt2.modeling_gpt2.GPT2Block"',
    ):
        text = f"use adapter fsdp {{ auto_wrap = [{entry}], use_orig_params = false }}\n" + SPLIT_BLOCK
        result = run(text, gpt2)
        assert [d.code for d in result.diagnostics] == ["E403", "E403"], entry


def test_e402_for_auto_wrap_entries_that_match_nothing(gpt2: Namespace) -> None:
    text = (
        'use adapter fsdp { auto_wrap = ["GPT2Blok", "transformer.x.*", "h.{1..0}"] }\nphase { thaw rest }\n'
    )
    typo, nothing, malformed = (d for d in run(text, gpt2).diagnostics if d.code == "E402")
    assert typo.span == at(text, '"GPT2Blok"')
    assert 'did you mean "GPT2Block"?' in typo.message
    assert nothing.span == at(text, '"transformer.x.*"')
    assert "matches no module type or module name" in nothing.message
    assert malformed.span == at(text, '"h.{1..0}"')
    assert "empty range" in malformed.message


def test_a_namespace_without_modules_matches_names_but_not_types() -> None:
    names = [f"blocks.{i}.{part}.weight" for i in range(2) for part in ("attn", "mlp")] + ["head.weight"]
    bare = Namespace.from_names(names)
    text = 'use adapter fsdp { auto_wrap = ["Block"], use_orig_params = false }\nphase { thaw rest }\n'
    (diagnostic,) = run(text, bare).diagnostics
    assert diagnostic.code == "E402"
    assert "lists no `modules`" in diagnostic.message and "ftsc namespace export" in diagnostic.message
    text = (
        'use adapter fsdp { auto_wrap = ["blocks.*"], use_orig_params = false }\n'
        "phase a { thaw blocks.0.attn.weight }\nphase b { thaw rest }\n"
    )
    result = run(text, bare)
    assert [d.code for d in result.diagnostics] == ["E403", "E403"]
    assert "FSDP unit `blocks.0`:" in result.diagnostics[0].message  # no type known


def test_e403_in_json_output_has_related_information(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "split.fts"
    schedule.write_text(f'use namespace "{GPT2}"\n' + FLAT + SPLIT_BLOCK)
    assert main(["check", "--format", "json", str(schedule)]) == 1
    found = [d for d in json.loads(capsys.readouterr().out)["diagnostics"] if d["code"] == "E403"]
    assert len(found) == 2
    assert all(len(d["relatedInformation"]) == 1 for d in found)
