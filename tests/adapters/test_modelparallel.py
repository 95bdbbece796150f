"""`modelparallelstrategy`: `fsdp_plan` entries are checked against the modules (E402); no E403 (FSDP2)."""

from __future__ import annotations

import pytest
from adapters_support import at, run

from ftsc.adapters import OptionError, resolve_adapter
from ftsc.adapters.model_parallel import ModelParallelAdapter
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.diagnostics import Diagnostic, Span

SPLIT = "phase head { thaw transformer.h.11.mlp.** }\nphase body { thaw rest }\n"


def e402(result: CompileResult) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == "E402"]


def test_a_plan_that_fits_the_model_compiles_and_is_recorded(gpt2: Namespace) -> None:
    text = (
        "use adapter modelparallelstrategy {\n"
        '    fsdp_plan = [{ module = "transformer.h.*", reshard_after_forward = true }, { module = "transformer" }],\n'
        "    fsdp_default_kwargs = { reshard_after_forward = false }\n"
        "}\n" + SPLIT
    )
    result = run(text, gpt2)
    assert result.diagnostics == []  # a phase may thaw part of a fully_shard unit: no E403 with FSDP2
    assert result.plan is not None
    namespace = result.plan["namespace"]
    assert isinstance(namespace, dict)
    assert namespace["adapter"] == "modelparallelstrategy"
    assert namespace["adapter_options"] == {
        "fsdp_plan": [
            {"module": "transformer.h.*", "reshard_after_forward": True},
            {"module": "transformer"},
        ],
        "fsdp_default_kwargs": {"reshard_after_forward": False},
    }


def test_e402_at_a_list_entry_that_matches_no_module(gpt2: Namespace) -> None:
    text = 'use adapter modelparallelstrategy { fsdp_plan = [{ module = "transformer.hh.*" }] }\n' + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert diagnostic.span == at(text, '"transformer.hh.*"')
    assert diagnostic.message == (
        '`fsdp_plan` entry "transformer.hh.*" matches no module name of the namespace; '
        'did you mean "transformer.h.*"?'
    )
    text = 'use adapter modelparallelstrategy { fsdp_plan = [{ module = "decoder.*" }] }\n' + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert diagnostic.message.endswith("matches no module name of the namespace")  # nothing close


def test_e402_at_a_table_key_with_a_did_you_mean(gpt2: Namespace) -> None:
    text = "use adapter modelparallelstrategy { fsdp_plan = { transformer = {}, tranformer = {} } }\n" + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert diagnostic.span == at(text, "tranformer")
    assert 'did you mean "transformer"?' in diagnostic.message


def test_e402_for_containers_fully_shard_does_not_wrap(gpt2: Namespace) -> None:
    text = 'use adapter modelparallelstrategy { fsdp_plan = [{ module = "transformer.h" }] }\n' + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert diagnostic.span == at(text, '"transformer.h"')
    assert "only ModuleList containers" in diagnostic.message and '"transformer.h.*"' in diagnostic.message


def test_e402_for_malformed_entries(gpt2: Namespace) -> None:
    text = "use adapter modelparallelstrategy { fsdp_plan = [{ reshard_after_forward = true }] }\n" + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert diagnostic.span == at(text, "[{ reshard_after_forward = true }]")
    assert 'needs `module = "NAME or PATTERN"`' in diagnostic.message
    text = 'use adapter modelparallelstrategy { fsdp_plan = ["transformer"] }\n' + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert "must be a table (`{ key = value, … }`) or a list of tables, not a list" in diagnostic.message
    text = 'use adapter modelparallelstrategy { fsdp_plan = [{ module = "transformer.{h" }] }\n' + SPLIT
    (diagnostic,) = e402(run(text, gpt2))
    assert "unclosed `{`" in diagnostic.message


def test_the_python_api_takes_ftsc_style_dict_plans() -> None:
    adapter = resolve_adapter(
        "modelparallelstrategy", {"fsdp_plan": {"transformer.h.*": {"mp_policy": None}}}
    )
    assert isinstance(adapter, ModelParallelAdapter)
    assert adapter.plan_entries == [("transformer.h.*", {"mp_policy": None})]
    with pytest.raises(OptionError, match=r'`fsdp_plan` entry "model" must be a table'):
        resolve_adapter("modelparallelstrategy", {"fsdp_plan": {"model": True}})


def test_an_api_plan_is_checked_without_spans(gpt2: Namespace) -> None:
    adapter = resolve_adapter("modelparallelstrategy", {"fsdp_plan": {"transformer.x": {}}})
    result = compile_schedule(SPLIT, gpt2, adapter=adapter)
    (diagnostic,) = e402(result)
    assert diagnostic.span == Span(0, 0)  # nothing in the file to point at
    assert '"transformer.x" matches no module name' in diagnostic.message
