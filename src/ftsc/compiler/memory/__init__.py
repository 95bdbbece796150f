"""Memory per phase and per rank: what a schedule keeps on each device (no torch import; see docs/memory.md).

`state` reads the per-parameter optimizer state torch really keeps (a snapshot made by stepping each class),
`model` places parameters, gradients and optimizer state on ranks for each strategy and precision.
"""
