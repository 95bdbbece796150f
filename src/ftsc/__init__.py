"""ftsc: a compiler and toolchain for fine-tuning schedules."""

__version__ = "0.1.0"
