"""A test-only FSDPStrategy that runs FSDP1 on CPU with gloo (Lightning's own refuses a CPU accelerator; FSDP1
itself runs there when told `device_id=cpu`)."""

from __future__ import annotations

from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities.rank_zero import rank_zero_warn
from torch import device, nn
from torch.distributed.fsdp import FullyShardedDataParallel


class CPUFSDPStrategy(FSDPStrategy):
    """`FSDPStrategy` whose model is wrapped with `device_id=torch.device("cpu")` (gloo process group)."""

    def _setup_model(self, model: nn.Module) -> nn.Module:
        if any(isinstance(module, FullyShardedDataParallel) for module in model.modules()):
            rank_zero_warn("the model is already wrapped in FSDP; CPUFSDPStrategy leaves it as it is")
            return model
        return FullyShardedDataParallel(
            module=model,
            cpu_offload=self.cpu_offload,
            mixed_precision=self.mixed_precision_config,
            sharding_strategy=self.sharding_strategy,
            device_id=device("cpu"),
            **self.kwargs,
        )
