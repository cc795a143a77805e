"""A LangChain chat model for a local Hugging Face causal LM (`--provider hf`).

    from rag_app.llm.hf_chat import HFChatModel
    llm = HFChatModel(model="naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-1.5B")
    llm.invoke([SystemMessage("..."), HumanMessage("RAG는 어떻게 작동하나요?")]).content
    for chunk in llm.stream(messages): print(chunk.content, end="")

It behaves like any LangChain `BaseChatModel` (`invoke`, `stream`, `batch`, callbacks):

- Prompt: the tokenizer's own chat template (`apply_chat_template(..., add_generation_prompt=True)`),
  with control tokens that appear *inside* message text (a retrieved document containing
  `<|endofturn|>`, say) encoded as plain text, so documents cannot close a turn. A template that
  rejects the system role (Gemma-style) gets the system text folded into the first user message.
  A tokenizer with no chat template at all gets a plain transcript:

      System: <system text>

      User: <question>

      Assistant:

  and then `"\\nUser:"` and `"\\nSystem:"` are added to the stop strings, so a base model does not
  write the next user turn itself.
- Device and dtype: `"auto"` picks CUDA (bfloat16 where supported, else float16), then Apple MPS
  (float16), then CPU (float32). See `hf_device_and_dtype`.
- Stop strings: the `stop` field plus the call's `stop=` list go to `generate(stop_strings=...)`,
  and the decoded text is cut at the first stop string (streaming too: a stop string split over
  two pieces is never emitted). Special tokens are skipped when decoding.
- Weights load once per process: `load_hf_model` caches `(model, tokenizer)` by
  `(model, device, dtype)`, so every `HFChatModel` for the same model shares them.
- Errors are one line: `ProviderError` for a missing model or missing transformers/torch,
  `ConfigError` for a bad device/dtype/setting. Generation errors (e.g. out of memory) are raised
  as they are, also from the streaming thread.

torch and transformers are imported inside the functions that need them, so importing this module
stays cheap.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import AliasChoices, Field

from rag_app.errors import ConfigError, ProviderError

logger = logging.getLogger(__name__)

DEFAULT_HF_MODEL = "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-1.5B"
# HyperCLOVAX ends a turn with these; other models never produce them, so they are harmless there.
DEFAULT_STOP = ("<|endofturn|>", "<|stop|>")
# Added when the tokenizer has no chat template and the plain transcript is used.
TRANSCRIPT_STOP = ("\nUser:", "\nSystem:")

INSTALL_HINT = (
    "the hf provider needs transformers and torch; "
    "run: pip install torch==2.13.0 && pip install 'rag-app[hf]'"
)

_DTYPES = ("float32", "float16", "bfloat16")
# Generation settings that may be overridden per call: llm.invoke(msgs, temperature=0.7).
_CALL_OVERRIDES = ("max_new_tokens", "max_tokens", "temperature", "top_p", "repetition_penalty")

_CACHE: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_CACHE_LOCK = threading.Lock()


# --------------------------------------------------------------------------- device and dtype


def hf_device_and_dtype(
    device: str = "auto",
    dtype: str = "auto",
    *,
    cuda_available: bool | None = None,
    mps_available: bool | None = None,
    cuda_bf16: bool | None = None,
) -> tuple[str, str]:
    """Resolve `"auto"` device/dtype settings to concrete names.

    The three keyword flags describe the hardware; left as None they are asked of torch.

        >>> hf_device_and_dtype("auto", "auto", cuda_available=True, mps_available=False, cuda_bf16=True)
        ('cuda', 'bfloat16')
        >>> hf_device_and_dtype("auto", "auto", cuda_available=False, mps_available=False, cuda_bf16=False)
        ('cpu', 'float32')
        >>> hf_device_and_dtype("cpu", "bfloat16", cuda_available=True, mps_available=False, cuda_bf16=True)
        ('cpu', 'bfloat16')
    """
    device = (device or "auto").strip().lower()
    dtype = (dtype or "auto").strip().lower()
    if dtype not in ("auto", *_DTYPES):
        raise ConfigError(f"unknown hf dtype {dtype!r}: use auto, float32, float16 or bfloat16")
    base = device.split(":", 1)[0]
    if base not in ("auto", "cpu", "cuda", "mps"):
        raise ConfigError(f"unknown hf device {device!r}: use auto, cpu, cuda, cuda:N or mps")

    if cuda_available is None or mps_available is None or (cuda_bf16 is None and base in ("auto", "cuda")):
        torch = _import_torch()
        if cuda_available is None:
            cuda_available = bool(torch.cuda.is_available())
        if mps_available is None:
            mps = getattr(torch.backends, "mps", None)
            mps_available = bool(mps is not None and mps.is_available())
        if cuda_bf16 is None:
            cuda_bf16 = bool(cuda_available and torch.cuda.is_bf16_supported())

    if base == "auto":
        device = "cuda" if cuda_available else "mps" if mps_available else "cpu"
        base = device
    elif base == "cuda" and not cuda_available:
        raise ConfigError(f"hf device {device!r} requested but no CUDA GPU is available: use --device auto or cpu")
    elif base == "mps" and not mps_available:
        raise ConfigError(f"hf device {device!r} requested but Apple MPS is not available: use --device auto or cpu")

    if dtype == "auto":
        if base == "cuda":
            dtype = "bfloat16" if cuda_bf16 else "float16"
        elif base == "mps":
            dtype = "float16"
        else:
            dtype = "float32"
    return device, dtype


# --------------------------------------------------------------------------- loading (once per process)


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ProviderError(INSTALL_HINT) from exc
    return torch


def _import_transformers() -> Any:
    _import_torch()
    try:
        import transformers
    except ImportError as exc:
        raise ProviderError(INSTALL_HINT) from exc
    return transformers


def _looks_like_path(model: str) -> bool:
    """A Hugging Face id is `name` or `owner/name`; anything else that is not on disk is a path."""
    return (
        model.startswith(("/", "./", "../", "~", "\\"))
        or model in (".", "..")
        or model.count("/") > 1
        or "\\" in model
        or (len(model) > 1 and model[1] == ":")  # C:\...
        or model.endswith(("/", ".safetensors", ".bin", ".gguf"))
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _download_hint(model: str) -> str:
    return f"download it first with `hf download {model}` on a connected machine, or pass a local path with --model"


def load_hf_model(model: str, device: str = "auto", dtype: str = "auto") -> tuple[Any, Any]:
    """Load `(model, tokenizer)` for a Hugging Face id or local folder, once per process.

    The cache key is `(model, device, dtype)` after `"auto"` is resolved, so `device="auto"` and
    the device it resolves to share one copy. Thread-safe: concurrent first calls load once.
    Raises `ProviderError` (one line, names the model and the fix) when the model cannot be found.
    """
    if not model or not model.strip():
        raise ConfigError("no hf model given: pass a Hugging Face id or a local path with --model")
    model = model.strip()
    device, dtype = hf_device_and_dtype(device, dtype)
    key = (model, device, dtype)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _load_uncached(model, device, dtype)
            _CACHE[key] = cached
    return cached


def clear_hf_model_cache() -> None:
    """Forget every loaded model (tests; freeing GPU memory). Models still referenced stay alive."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _load_uncached(model: str, device: str, dtype: str) -> tuple[Any, Any]:
    transformers = _import_transformers()
    torch = _import_torch()

    local = os.path.expanduser(model)
    if os.path.isdir(local):
        if not os.path.isfile(os.path.join(local, "config.json")):
            raise ProviderError(
                f"hf model folder {model} has no config.json: pass a folder saved with save_pretrained "
                f"or downloaded with `hf download ID --local-dir {model}`"
            )
        source, where, hub_id = local, f"hf model folder {model}", False
    elif os.path.exists(local):
        raise ProviderError(f"hf model path {model} is a file: pass the folder that holds config.json and the weights")
    elif _looks_like_path(model):
        raise ProviderError(f"hf model path not found: {model}: check the path, or pass a Hugging Face id with --model")
    else:
        source, where, hub_id = model, f"hf model {model!r}", True

    logger.info("loading %s on %s as %s", where, device, dtype)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        lm = transformers.AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    except OSError as exc:
        # transformers turns every "cannot find/fetch these files" (offline cache miss, unknown repo,
        # gated repo, missing weight file, unreadable folder) into OSError.
        if hub_id:
            raise ProviderError(
                f"{where} is not in the local Hugging Face cache and could not be fetched "
                f"({_first_line(exc)}): {_download_hint(model)}"
            ) from exc
        raise ProviderError(f"cannot load {where}: {_first_line(exc)}") from exc
    except ValueError as exc:
        # Unrecognized model type / not a causal LM / tokenizer that cannot be built.
        raise ProviderError(
            f"cannot load {where} as a causal language model: {_first_line(exc)}"
        ) from exc
    lm.to(device)
    lm.eval()
    return lm, tokenizer


# --------------------------------------------------------------------------- prompt


def messages_to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages -> `[{"role", "content"}]` (system / user / assistant)."""
    out = []
    for message in messages:
        if isinstance(message, SystemMessage):
            role = "system"
        elif isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        elif isinstance(message, ChatMessage):
            role = message.role
        else:
            raise ProviderError(
                f"the hf provider cannot send a {type(message).__name__} to the model: "
                "use system, human and AI messages"
            )
        out.append({"role": role, "content": _message_text(message)})
    return out


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise ProviderError(f"the hf provider handles text only, got a {kind!r} content block")
    return "".join(parts)


def fold_system_into_user(chat: list[dict[str, str]]) -> list[dict[str, str]]:
    """For templates without a system role: system text goes in front of the first user message.

        >>> fold_system_into_user([{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}])
        [{'role': 'user', 'content': 'S\\n\\nQ'}]
    """
    system = "\n\n".join(m["content"] for m in chat if m["role"] == "system" and m["content"])
    rest = [dict(m) for m in chat if m["role"] != "system"]
    if not system:
        return rest
    for message in rest:
        if message["role"] == "user":
            message["content"] = f"{system}\n\n{message['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


def transcript_prompt(chat: list[dict[str, str]]) -> str:
    """The prompt used when the tokenizer has no chat template.

        >>> transcript_prompt([{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}])
        'System: S\\n\\nUser: Q\\n\\nAssistant:'
    """
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    turns = [f"{names.get(m['role'], m['role'].capitalize())}: {m['content']}" for m in chat]
    turns.append("Assistant:")
    return "\n\n".join(turns)


def build_prompt(tokenizer: Any, messages: Sequence[BaseMessage]) -> tuple[str, Any, bool]:
    """Render `messages` for `tokenizer`: `(prompt_text, input_ids tensor [1, n], used_template)`.

    `prompt_text` is what the model sees (for logs and tests). With a chat template, control
    tokens inside message text are encoded as text (`sanitize_control_tokens=True`), so
    `input_ids` can differ from `tokenizer(prompt_text)` exactly where a message contains one.
    """
    chat = messages_to_dicts(messages)
    if getattr(tokenizer, "chat_template", None) is None:
        text = transcript_prompt(chat)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=True)["input_ids"]
        return text, ids, False

    from jinja2.exceptions import TemplateError

    try:
        text, ids = _render_template(tokenizer, chat)
    except TemplateError as exc:
        if not any(m["role"] == "system" for m in chat):
            raise ProviderError(f"the model's chat template rejected the messages: {_first_line(exc)}") from exc
        logger.debug("chat template rejected the system role (%s); folding it into the first user message", exc)
        try:
            text, ids = _render_template(tokenizer, fold_system_into_user(chat))
        except TemplateError as exc2:
            raise ProviderError(f"the model's chat template rejected the messages: {_first_line(exc2)}") from exc2
    return text, ids, True


def _render_template(tokenizer: Any, chat: list[dict[str, str]]) -> tuple[str, Any]:
    text = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    encoded = tokenizer.apply_chat_template(
        chat,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        sanitize_control_tokens=True,
    )
    return text, encoded["input_ids"]


# --------------------------------------------------------------------------- stop strings


def trim_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string: `(kept_text, found)`.

        >>> trim_at_stop("답변입니다<|endofturn|>다음", ["<|endofturn|>"])
        ('답변입니다', True)
        >>> trim_at_stop("no stop here", ["<|stop|>"])
        ('no stop here', False)
    """
    cut = -1
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1 and (cut == -1 or i < cut):
                cut = i
    return (text, False) if cut == -1 else (text[:cut], True)


class StopStringBuffer:
    """Streams text while holding back any tail that could be the start of a stop string.

        >>> buf = StopStringBuffer(["<|endofturn|>"])
        >>> buf.push("안녕하세요<|endof"), buf.push("turn|>더"), buf.flush()
        ('안녕하세요', '', '')
        >>> buf.stopped
        True
    """

    def __init__(self, stop: Sequence[str]):
        self.stop = [s for s in stop if s]
        self._hold = max((len(s) for s in self.stop), default=1) - 1
        self._buffer = ""
        self.stopped = False

    def push(self, piece: str) -> str:
        """Add a piece; return the text that is now safe to emit."""
        if self.stopped or not piece:
            return ""
        self._buffer += piece
        kept, found = trim_at_stop(self._buffer, self.stop)
        if found:
            self.stopped = True
            self._buffer = ""
            return kept
        safe = len(self._buffer) - self._partial_stop_len(self._buffer)
        out, self._buffer = self._buffer[:safe], self._buffer[safe:]
        return out

    def flush(self) -> str:
        """End of stream: whatever was held back was not a stop string after all."""
        out, self._buffer = ("" if self.stopped else self._buffer), ""
        return out

    def _partial_stop_len(self, text: str) -> int:
        """Length of the longest suffix of `text` that is a proper prefix of some stop string."""
        for n in range(min(self._hold, len(text)), 0, -1):
            tail = text[-n:]
            if any(s.startswith(tail) for s in self.stop):
                return n
        return 0


# --------------------------------------------------------------------------- the chat model


def fit_context(lm: Any, model: str, n_prompt: int, gen: dict[str, Any]) -> None:
    """Keep prompt + answer inside the model's context window: shorten `max_new_tokens` when the
    answer would overflow it, and refuse (one line, with the fix) a prompt that alone fills it;
    transformers would otherwise fail deep inside the model or generate from a clipped prompt."""
    context = getattr(lm.config, "max_position_embeddings", None)
    if not context:
        return
    if n_prompt >= context:
        raise ProviderError(
            f"hf model {model}: the prompt is {n_prompt} tokens but the model reads at most {context}; "
            "retrieve fewer chunks (--k) or use smaller chunks (RAG_APP_CHUNK_SIZE)"
        )
    room = context - n_prompt
    if gen["max_new_tokens"] > room:
        logger.info("hf model %s: answer limited to %d tokens to fit the %d-token context", model, room, context)
        gen["max_new_tokens"] = room


class HFChatModel(BaseChatModel):
    """A local Hugging Face causal LM as a LangChain chat model.

    Construct it cheaply: weights load on the first `invoke`/`stream` (or `load()`), once per
    process per `(model, device, dtype)`.
    """

    model: str = DEFAULT_HF_MODEL
    """Hugging Face id (must be in the local cache when offline) or a local folder."""
    device: str = "auto"
    """auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps."""
    dtype: str = "auto"
    """auto (bfloat16/float16 on GPU, float32 on CPU), float32, float16 or bfloat16."""
    max_new_tokens: int = Field(
        default=1024, ge=1, validation_alias=AliasChoices("max_new_tokens", "max_tokens")
    )
    """Most tokens generated per answer (`max_tokens=` is accepted too)."""
    temperature: float = Field(default=0.0, ge=0.0)
    """0 = greedy decoding (deterministic); above 0 = sampling."""
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    """Nucleus sampling; used only when temperature > 0."""
    repetition_penalty: float = Field(default=1.0, gt=0.0)
    stop: list[str] = Field(default_factory=lambda: list(DEFAULT_STOP))
    """Stop strings, always applied; `invoke(..., stop=[...])` adds to them."""
    generation_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Anything else for `model.generate` (e.g. `{"top_k": 50}`)."""

    @property
    def _llm_type(self) -> str:
        return "hf-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "device": self.device,
            "dtype": self.dtype,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repetition_penalty": self.repetition_penalty,
            "stop": list(self.stop),
        }

    def load(self) -> tuple[Any, Any]:
        """`(model, tokenizer)`, loading them on first use (shared process-wide)."""
        return load_hf_model(self.model, self.device, self.dtype)

    # ---- generation plumbing

    def _prepare(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]):
        lm, tokenizer = self.load()
        _text, input_ids, used_template = build_prompt(tokenizer, messages)
        stops = list(dict.fromkeys(s for s in [*self.stop, *(stop or [])] if s))
        if not used_template:
            stops += [s for s in TRANSCRIPT_STOP if s not in stops]
        gen = self._generate_kwargs(tokenizer, stops, kwargs)
        fit_context(lm, self.model, input_ids.shape[1], gen)
        input_ids = input_ids.to(lm.device)
        gen["input_ids"] = input_ids
        gen["attention_mask"] = input_ids.new_ones(input_ids.shape)
        return lm, tokenizer, gen, stops

    def _generate_kwargs(self, tokenizer: Any, stops: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = dict(kwargs)
        kwargs.pop("stream", None)  # LangChain's own routing flag
        unknown = sorted(set(kwargs) - set(_CALL_OVERRIDES))
        if unknown:
            raise ConfigError(
                f"unknown hf generation setting(s) {', '.join(unknown)}: use {', '.join(_CALL_OVERRIDES)} "
                "or HFChatModel(generation_kwargs=...)"
            )
        max_new = int(kwargs.get("max_new_tokens", kwargs.get("max_tokens", self.max_new_tokens)))
        temperature = float(kwargs.get("temperature", self.temperature))
        top_p = float(kwargs.get("top_p", self.top_p))
        penalty = float(kwargs.get("repetition_penalty", self.repetition_penalty))
        if max_new < 1 or temperature < 0 or not 0 < top_p <= 1 or penalty <= 0:
            raise ConfigError(
                f"invalid hf generation settings max_new_tokens={max_new} temperature={temperature} "
                f"top_p={top_p} repetition_penalty={penalty}"
            )
        gen: dict[str, Any] = {**self.generation_kwargs, "max_new_tokens": max_new, "repetition_penalty": penalty}
        if temperature > 0:
            gen.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            gen["do_sample"] = False
        if stops:
            gen["stop_strings"] = stops
            gen["tokenizer"] = tokenizer
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is not None:
            gen["pad_token_id"] = pad
        return gen

    @staticmethod
    def _finish(tokenizer: Any, lm: Any, new_ids: list[int], max_new: int, stopped: bool) -> str:
        eos = lm.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        if stopped or (new_ids and new_ids[-1] in eos_ids):
            return "stop"
        return "length" if len(new_ids) >= max_new else "stop"

    # ---- LangChain hooks

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        torch = _import_torch()
        lm, tokenizer, gen, stops = self._prepare(messages, stop, kwargs)
        n_prompt = gen["input_ids"].shape[1]
        with torch.inference_mode():
            output = lm.generate(**gen)
        new_ids = output[0, n_prompt:].tolist()
        decoded = tokenizer.decode(new_ids, skip_special_tokens=True)
        text, stopped = trim_at_stop(decoded, stops)
        usage = UsageMetadata(
            input_tokens=n_prompt, output_tokens=len(new_ids), total_tokens=n_prompt + len(new_ids)
        )
        info = {
            "model_name": self.model,
            "finish_reason": self._finish(tokenizer, lm, new_ids, gen["max_new_tokens"], stopped),
        }
        message = AIMessage(content=text, usage_metadata=usage, response_metadata=dict(info))
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=info)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        torch = _import_torch()
        transformers = _import_transformers()
        lm, tokenizer, gen, stops = self._prepare(messages, stop, kwargs)
        n_prompt = gen["input_ids"].shape[1]

        streamer = transformers.TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        gen["streamer"] = streamer
        gen["stopping_criteria"] = transformers.StoppingCriteriaList(
            [*gen.get("stopping_criteria", []), _CancelCriteria(cancel)]
        )
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                with torch.inference_mode():
                    result["output"] = lm.generate(**gen)
            except BaseException as exc:  # handed to the consumer thread below and raised there
                result["error"] = exc
            finally:
                # generate() ends the streamer itself on success; on failure nobody would, and the
                # consumer would wait forever. A second stop signal is never read, so it is harmless.
                streamer.text_queue.put(streamer.stop_signal)

        thread = threading.Thread(target=run, name="hf-chat-generate", daemon=True)
        buffer = StopStringBuffer(stops)
        thread.start()
        try:
            for piece in streamer:
                text = buffer.push(piece)
                if text:
                    yield self._chunk(text, run_manager)
                if buffer.stopped:
                    cancel.set()  # the rest is after a stop string: stop generating it
                    break
            thread.join()
            if "error" in result:
                raise result["error"]
            tail = buffer.flush()
            if tail:
                yield self._chunk(tail, run_manager)
            new_ids = result["output"][0, n_prompt:].tolist()
            info = {
                "model_name": self.model,
                "finish_reason": self._finish(tokenizer, lm, new_ids, gen["max_new_tokens"], buffer.stopped),
            }
            usage = UsageMetadata(
                input_tokens=n_prompt, output_tokens=len(new_ids), total_tokens=n_prompt + len(new_ids)
            )
            last = AIMessageChunk(content="", usage_metadata=usage, response_metadata=dict(info), chunk_position="last")
            yield ChatGenerationChunk(message=last, generation_info=info)
        finally:
            # Consumer stopped early (closed generator, error downstream): stop the thread too.
            cancel.set()
            thread.join()

    @staticmethod
    def _chunk(text: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager is not None:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk


class _CancelCriteria:
    """A `StoppingCriteria` that ends generation once `event` is set (duck-typed: no torch import here)."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        stop = self.event.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


__all__ = [
    "DEFAULT_HF_MODEL",
    "DEFAULT_STOP",
    "HFChatModel",
    "StopStringBuffer",
    "build_prompt",
    "clear_hf_model_cache",
    "fold_system_into_user",
    "hf_device_and_dtype",
    "load_hf_model",
    "messages_to_dicts",
    "transcript_prompt",
    "trim_at_stop",
]
