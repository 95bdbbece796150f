"""What the migration tests share: the fixture folder, the v0 layout written from a v1 plan, v1 plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

DATA = Path(__file__).resolve().parent / "data"
SHA = st.text("0123456789abcdef", min_size=64, max_size=64)


def to_v0(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as the pre-release ftsc (plan version 0) wrote it: the layout of docs/formats.md.

    Written independently of `plan_0_to_1` (from the documented layout, not by inverting the code), so
    a property over the two checks the step against the documentation.
    """
    namespace = {key: value for key, value in plan["namespace"].items() if key != "fingerprint"}
    phases = {
        str(phase["index"]): {
            key: value
            for key, value in phase.items()
            if key != "index" and not (key == "max_transition_epoch" and value == -1)
        }
        for phase in plan["phases"]
    }
    top = {key: value for key, value in plan.items() if key not in ("plan_version", "namespace", "phases")}
    return {
        "version": 0,
        **top,
        "fingerprint": plan["namespace"]["fingerprint"],
        "namespace": namespace,
        "phases": phases,
    }


def to_v1(plan: dict[str, Any]) -> dict[str, Any]:
    """A version 2 plan as version 1 held it (docs/formats.md): no prefix, no element counts."""
    namespace = {key: value for key, value in plan["namespace"].items() if key != "prefix"}
    phases = [{key: value for key, value in phase.items() if key != "elements"} for phase in plan["phases"]]
    top = {key: value for key, value in plan.items() if key != "frozen_elements"}
    return {**top, "plan_version": 1, "namespace": namespace, "phases": phases}


segment = st.sampled_from(["model", "layers", "0", "1", "attn", "q", "weight", "bias", "émbed"])
names = st.lists(
    st.lists(segment, min_size=1, max_size=4).map(".".join), min_size=1, max_size=10, unique=True
)
positive = st.floats(min_value=1e-8, max_value=10.0, allow_nan=False)
json_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), positive, st.text(max_size=4))
keyword_args = st.dictionaries(
    st.sampled_from(["lr", "T_max", "gamma", "step_size"]), json_values, max_size=2
)
call = st.fixed_dictionaries(
    {"class_path": st.sampled_from(["torch.optim.AdamW", "torch.optim.SGD"]), "init_args": keyword_args}
)
scheduler = st.fixed_dictionaries(
    {
        "class_path": st.sampled_from(["torch.optim.lr_scheduler.StepLR", "my.Scheduler"]),
        "init_args": keyword_args,
        "config": st.fixed_dictionaries(
            {},
            optional={
                "interval": st.sampled_from(["epoch", "step"]),
                "frequency": st.integers(1, 3),
                "monitor": st.just("val_loss"),
                "name": st.one_of(st.none(), st.just("lr")),
            },
        ),
    }
)


@st.composite
def v1_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A plan that fits the version 1 schema: names shared out among phases and `frozen`, every optional
    and nullable field sometimes set."""
    all_names = draw(names)
    count = draw(st.integers(1, 12))  # past 10: "10" sorts before "2" as text
    owner = [draw(st.integers(-1, count - 1)) for _ in all_names]  # -1: never thawed
    texts = draw(st.lists(st.text(max_size=5), min_size=count, max_size=count, unique=True))
    phases = []
    for index in range(count):
        later = index > 0
        phase: dict[str, Any] = {
            "index": index,
            "name": draw(st.one_of(st.none(), st.just(texts[index]))),  # distinct, as compiled plans have
            "params": [name for name, where in zip(all_names, owner, strict=True) if where == index],
            "max_transition_epoch": draw(st.integers(-1, 9)),
            "lr": draw(st.one_of(st.none(), positive)) if later else None,
            "optimizer": draw(st.one_of(st.none(), call)) if later else None,
            "lr_scheduler": draw(st.one_of(st.none(), scheduler)) if later else None,
            "init_pg_lrs": draw(st.one_of(st.none(), st.lists(positive, max_size=2))),
            "use_current_optimizer_pg_lrs": draw(st.one_of(st.none(), st.booleans())),
        }
        if draw(st.booleans()):
            phase["line"] = draw(st.integers(1, 500))
        phases.append(phase)
    plan: dict[str, Any] = {
        "plan_version": 1,
        "ftsc_version": draw(st.sampled_from(["0.1.0", "0.2", "1.0.0rc1"])),
        "source": {"path": draw(st.one_of(st.none(), st.just("a.fts"))), "sha256": draw(SHA)},
        "namespace": {
            "model": draw(st.one_of(st.none(), st.text(max_size=5))),
            "fingerprint": "sha256:" + draw(SHA),
            "size": len(all_names),
            "adapter": draw(st.sampled_from(["default", "fsdp", "modelparallelstrategy"])),
            "adapter_options": draw(st.dictionaries(st.sampled_from(["use_orig_params"]), st.booleans())),
        },
        "settings": {
            "lr": draw(positive),
            "restore_best": draw(st.booleans()),
            "epoch_transitions_only": draw(st.booleans()),
            "max_depth": draw(st.integers(-1, 5)),
            "enforce_phase0_params": draw(st.booleans()),
            "apply_lambdas_new_pgs": draw(st.booleans()),
            "frozen_bn_track_running_stats": draw(st.booleans()),
            "allow_untested": draw(st.booleans()),
            "optimizer": draw(st.one_of(st.none(), call)),
            "lr_scheduler": draw(st.one_of(st.none(), scheduler)),
            "early_stopping": draw(st.one_of(st.none(), st.just({"monitor": "val_loss", "patience": 2}))),
            "checkpoint": draw(st.one_of(st.none(), st.just({"monitor": "val_loss"}))),
        },
        "phases": phases,
        "frozen": [name for name, where in zip(all_names, owner, strict=True) if where == -1],
    }
    if draw(st.booleans()):
        plan = {"$schema": "https://ftsc.dev/schemas/plan-1.json", **plan}
    return plan
