"""`ftsc lsp`: run the language server on standard input/output, or on TCP with `--tcp HOST:PORT`."""

from __future__ import annotations

import argparse

from ftsc.cli.common import EXIT_OK, UsageError, add_cache_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="listen on TCP instead of standard input/output (e.g. 127.0.0.1:2087)",
    )
    parser.add_argument("--stdio", action="store_true", help="use standard input/output (the default)")
    add_cache_options(parser)


def parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--tcp: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    address = parse_address(args.tcp) if args.tcp else None
    try:
        from ftsc.lsp.app import build_server
        from ftsc.lsp.memory import one_malloc_arena
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls: pip install 'ftsc[lsp]' ({exc})") from None
    one_malloc_arena()
    server = build_server()
    if address is not None:
        server.start_tcp(*address)
    else:
        server.start_io()
    return EXIT_OK
