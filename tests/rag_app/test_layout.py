"""The package's rooms and which way imports go.

    rag_app/        the SDK core (RagApp, answers, grounding, settings, errors) and the CLI
    rag_app/llm/    chat-model providers, agent mode, conversations, the LLM reranker
    rag_app/ui/     the Gradio chat app (its HTML and texts)
    rag_app/serve/  the HTTP API, the MCP server, the LangChain retriever

The core imports the rooms only inside the functions that need them (a provider is chosen at run
time), so `from rag_app import RagApp` loads no front-end; rag_app/llm/ never imports rag_app.app.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rag_app"
ROOMS = ("rag_app.llm", "rag_app.ui", "rag_app.serve")
FRONT_ENDS = ("gradio", "fastapi", "mcp", "langchain_openai", "langchain_google_genai")


def test_importing_the_sdk_loads_no_room_and_no_front_end():
    code = (
        "import json, sys, rag_app\n"
        "from rag_app import Answer, Citation, RagApp, RagError, Settings, SourceReport\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(done.stdout))
    assert "rag_app.app" in loaded  # the import really happened
    assert sorted(m for m in loaded if m.startswith(ROOMS)) == []
    assert sorted(m for m in loaded if m.split(".")[0] in FRONT_ENDS) == []


# Where people import things from; each must keep working.
PUBLIC_NAMES = [
    ("rag_app", "RagApp"),
    ("rag_app", "SourceReport"),
    ("rag_app", "Answer"),
    ("rag_app", "Citation"),
    ("rag_app", "Settings"),
    ("rag_app", "RagError"),
    ("rag_app", "__version__"),
    ("rag_app.app", "RagApp"),
    ("rag_app.app", "SourceReport"),
    ("rag_app.answer", "Answer"),
    ("rag_app.answer", "Citation"),
    ("rag_app.answer", "Generator"),
    ("rag_app.config", "Settings"),
    ("rag_app.errors", "ConfigError"),
    ("rag_app.errors", "ProviderError"),
    ("rag_app.errors", "StoreError"),
    ("rag_app.extractive", "ExtractiveAnswerer"),
    ("rag_app.grounding", "verify_citations"),
    ("rag_app.support", "make_judge"),
    ("rag_app.cli", "main"),
    ("rag_app.llm.generate", "make_generator"),
    ("rag_app.llm.generate", "make_chat_model"),
    ("rag_app.llm.generate", "LLMGenerator"),
    ("rag_app.llm.hf_chat", "HFChatModel"),
    ("rag_app.llm.agent", "AgentAnswerer"),
    ("rag_app.llm.conversation", "ChatSession"),
    ("rag_app.llm.conversation", "Turn"),
    ("rag_app.llm.llm_rerank", "LLMReranker"),
    ("rag_app.ui", "build"),
    ("rag_app.ui", "launch_kwargs"),
    ("rag_app.ui", "UISession"),
    ("rag_app.ui", "list_collections"),
    ("rag_app.ui", "uploads_root"),
    ("rag_app.ui", "safe_filename"),
    ("rag_app.ui", "PENDING_DIR"),
    ("rag_app.uploads", "ingest_staged"),
    ("rag_app.ui.render", "render_conversation"),
    ("rag_app.ui.text", "t"),
    ("rag_app.serve.api", "create_app"),
    ("rag_app.serve.retriever", "RagAppRetriever"),
]


@pytest.mark.parametrize(("module", "name"), PUBLIC_NAMES, ids=[f"{m}.{n}" for m, n in PUBLIC_NAMES])
def test_public_names_import(module, name):
    assert getattr(importlib.import_module(module), name) is not None


def test_the_sdk_chat_is_the_conversation_rooms_session(tmp_path):
    from rag_app import RagApp
    from rag_app.llm.conversation import ChatSession

    session = RagApp(home=tmp_path, collection="c").chat()
    assert isinstance(session, ChatSession) and session.history == []


def imports_of(tree: ast.AST, module_level_only: bool) -> list[tuple[int, str]]:
    """(line, module) of the imports in `tree`; with module_level_only, those that run when the
    module is imported (not inside functions, not under `if TYPE_CHECKING:`)."""
    found = []

    def visit(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if module_level_only and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if module_level_only and isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(ast.Module(body=child.orelse, type_ignores=[]))
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend((child.lineno, f"{child.module}.{alias.name}") for alias in child.names)
            visit(child)

    visit(tree)
    return found


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_core_never_imports_a_room_at_import_time():
    core = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in core} >= {"app.py", "answer.py", "config.py", "cli.py", "__init__.py"}
    bad = [
        f"{path.name}:{line} imports {name}"
        for path in core
        for line, name in imports_of(ast.parse(path.read_text(encoding="utf-8")), module_level_only=True)
        if under(name, ROOMS)
    ]
    assert bad == []


def test_the_llm_room_never_imports_the_app_or_a_front_end():
    bad = [
        f"llm/{path.name}:{line} imports {name}"
        for path in sorted((PACKAGE / "llm").glob("*.py"))
        for line, name in imports_of(ast.parse(path.read_text(encoding="utf-8")), module_level_only=False)
        if under(name, ("rag_app.app", "rag_app.cli", "rag_app.ui", "rag_app.serve"))
    ]
    assert bad == []


def test_old_flat_modules_are_gone():
    """Each module lives in one place (no copies left beside the rooms)."""
    flat = {"generate", "hf_chat", "agent", "conversation", "llm_rerank", "ui_render", "ui_text"}
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem in flat) == []
    assert not (PACKAGE / "ui.py").exists()
