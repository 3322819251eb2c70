"""Command line of the grader: ``python -m grader <command>``."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.workspace import sync_workspace


def _workspace(args: argparse.Namespace) -> int:
    copied = sync_workspace(Path(args.dest))
    print(f"workspace {args.dest}: {len(copied)} new file(s) from course/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    workspace = commands.add_parser(
        "workspace", help="copy new course notebooks into your own folder (never overwrites)"
    )
    workspace.add_argument("--dest", default="workspace")
    workspace.set_defaults(run=_workspace)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
