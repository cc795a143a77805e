"""The Gradio chat app (`rag-app serve`). Gradio is imported inside `run`, so this module is light."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")


def run(args: argparse.Namespace, settings) -> int:
    raise NotImplementedError("the chat app is being built (issue 6)")
