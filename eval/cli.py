"""`rag-app eval`: argument definitions and the command. Heavy imports happen inside `run`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", nargs="?", help="JSONL, SQuAD/KorQuAD JSON, or an MTEB-style folder")


def run(args: argparse.Namespace, settings) -> int:
    raise NotImplementedError("evaluation is being built (issue 5)")
