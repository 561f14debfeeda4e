"""LLM backends behind one small interface: stream (and, derived from it, generate) chat completions.

- ``local``: a packaged GGUF model (see ``genai_models.registry``) run in-process, by llama.cpp on CPU (tens of
  tokens/s on two cores) or by ``transformers`` (CPU, or CUDA in bf16 with a static KV cache).
- ``openai``: any OpenAI-compatible server (vLLM, Ollama, TGI, llama.cpp server) by base URL; the way to
  scale beyond one machine.

Loaded models are cached per process by their config, so every caller shares one copy.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from data_connectors.errors import BadInputError
from genai_models.registry import ModelRegistry, sha256_file
from genai_models.runtime import resolve_device

log = logging.getLogger(__name__)

ChatMessage = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}

# Strings that chat templates and tokenisers turn into control tokens (ChatML, Llama 2/3, Gemma, Mistral,
# DeepSeek): inside a message's content they would end the message and open a new, e.g. system, one.
# Case-sensitive, as tokenisers are; "<s>" only where it cannot be a generic type ("List<s>"), and the harmless
# <unk>/<pad> are left alone, so ordinary text keeps its look.
_SPECIAL_TOKEN = re.compile(
    r"<[|\uff5c][^<>\n]{0,64}?[|\uff5c]>"  # <|im_start|>, <|eot_id|>, DeepSeek's fullwidth bars
    r"|(?<!\w)<s>|</s>|<(?:bos|eos|start_of_turn|end_of_turn)>|\[/?INST\]|<</?SYS>>"
)
# Chat-template tokens around each message (role header, end marker) when the exact template is not used.
_TEMPLATE_TOKENS_PER_MESSAGE = 8
_CHARS_PER_TOKEN_ESTIMATE = 3  # below the ~4 of English text, so estimated prompts err on the long side


class LLMConfig(BaseModel):
    """How the toolkit talks to its language model."""

    model_config = ConfigDict(frozen=True)

    backend: Literal["local", "openai"] = "local"
    model: str = Field("qwen2.5-0.5b", description="registry name, local GGUF/HF path, or server model name")
    engine: Literal["auto", "llama-cpp", "transformers"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_new_tokens: int = Field(384, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0, description="discourages loops of small models")
    context_window: int = Field(8192, ge=512)
    threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp; default: all cores")
    cpu_format: Literal["iq4_nl", "original"] = Field(
        "iq4_nl",
        description="llama.cpp weights: iq4_nl is re-quantised once from the GGUF for fast CPU prompt "
        "processing; original keeps the file's own quantisation (slightly better quality, slower)",
    )
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key_env: str = Field("OPENAI_API_KEY", description="name of the env var holding the server's key")
    timeout_s: float = 120.0


class ChatModel(ABC):
    """A chat model: implement ``stream``; ``generate`` joins it.

    ``config`` (None when unknown) gives the context window and default reply length that callers budget
    prompts against; backends with a tokenizer override ``count_tokens`` to count exactly.
    """

    name: str = "chat-model"
    config: LLMConfig | None = None

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text``, estimated from its length (backends with a tokenizer count exactly)."""
        return -(-len(text) // _CHARS_PER_TOKEN_ESTIMATE)

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the prompt of ``messages`` takes: their contents plus the chat template's markers."""
        content = sum(self.count_tokens(message["content"]) for message in messages)
        return content + _TEMPLATE_TOKENS_PER_MESSAGE * (len(messages) + 1)  # +1: the reply's header

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text piece by piece, as the model produces it."""

    def generate(self, messages: Sequence[ChatMessage], **options: object) -> str:
        return "".join(self.stream(messages, **options))  # type: ignore[arg-type]


# ---------------------------------------------------------------- helpers


def _check_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Valid messages, with special-token strings in their content neutralised (see ``escape_special_tokens``)."""
    if not messages:
        raise BadInputError("A chat request needs at least one message.")
    checked = []
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in {"system", "user", "assistant"} or not isinstance(content, str):
            raise BadInputError(
                f"Message {index} must be {{'role': 'system'|'user'|'assistant', 'content': str}}, "
                f"got role={role!r} and content of type {type(content).__name__}."
            )
        checked.append({"role": role, "content": escape_special_tokens(content)})
    return checked


def _until_stop(pieces: Iterable[str], stop: Sequence[str]) -> Iterator[str]:
    """``pieces`` up to the first stop marker, which is never emitted, not even in part: text that may be the
    start of a marker split across pieces (``"\\n\\nQues"`` of ``"\\n\\nQuestion:"``) is held back until the
    next piece shows whether it is one."""
    markers = [marker for marker in stop if marker]
    produced, emitted = "", 0
    for piece in pieces:
        produced += piece
        # A marker cannot start before ``emitted``: any text that could begin one was held back.
        cut = min((at for marker in markers if (at := produced.find(marker, emitted)) >= 0), default=-1)
        if cut >= 0:
            if cut > emitted:
                yield produced[emitted:cut]
            return
        held = max(
            (
                size
                for marker in markers
                for size in range(1, len(marker))
                if produced.endswith(marker[:size])
            ),
            default=0,
        )
        if len(produced) - held > emitted:
            yield produced[emitted : len(produced) - held]
            emitted = len(produced) - held
    if len(produced) > emitted:  # the reply ended on the start of a marker that never came
        yield produced[emitted:]


@contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null for the block: C libraries write there, not to ``sys.stderr``."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def requantized(gguf_path: Path, fmt: str, cache_dir: Path) -> Path:
    """``gguf_path`` re-quantised to ``fmt`` once and cached under ``cache_dir``.

    Why: llama.cpp repacks IQ4_NL (and Q4_0) weights into interleaved blocks that its AVX2/AVX-512 matrix
    kernels process several rows at a time, so prompt processing on CPU is ~1.5x faster than with the Q5_0 /
    Q4_K / Q4_1 blocks the packaged files use (``bench/llm.py`` measures both, with perplexity).
    """
    if fmt == "original":
        return gguf_path
    import ctypes

    import llama_cpp

    stat = gguf_path.stat()
    target = cache_dir / f"{gguf_path.stem}.{fmt}-{stat.st_size:x}-{stat.st_mtime_ns:x}.gguf"
    digest = target.with_name(target.name + ".sha256")  # recorded when made: a damaged copy is made again
    if target.exists() and digest.exists():
        if sha256_file(target) == digest.read_text().strip():
            return target
        log.warning("re-creating %s: its sha256 differs from the one recorded when it was made", target.name)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{fmt.upper()}")
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    log.info("re-quantising %s to %s once (cached in %s)", gguf_path.name, fmt, cache_dir)
    with _c_stderr_silenced():  # llama.cpp prints a line per tensor (hundreds) to the process's stderr
        status = llama_cpp.llama_model_quantize(
            str(gguf_path).encode(), str(partial).encode(), ctypes.byref(params)
        )
    if status != 0:
        partial.unlink(missing_ok=True)
        raise BadInputError(
            f"llama.cpp could not re-quantise {gguf_path.name} to {fmt}; set llm.cpu_format=original."
        )
    digest.write_text(sha256_file(partial))
    os.replace(partial, target)
    return target


# ---------------------------------------------------------------- backends


class LlamaCppChat(ChatModel):
    """A GGUF model run by llama.cpp (CPU build); the fast path on laptops and servers without a GPU."""

    def __init__(self, gguf_path: Path, *, name: str, config: LLMConfig) -> None:
        from llama_cpp import Llama

        self.name = name
        self.config = config
        self._llama = Llama(
            model_path=str(gguf_path),
            n_ctx=config.context_window,
            n_threads=config.threads or os.cpu_count() or 1,
            flash_attn=True,
            seed=0,
            verbose=False,
        )
        self._lock = threading.Lock()  # one llama context serves one request at a time

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=False))

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        """llama.cpp applies ``stop`` itself and holds back text that may be the start of a stop marker."""
        messages = _check_messages(messages)
        with self._lock:
            chunks = self._llama.create_chat_completion(
                messages=messages,
                max_tokens=max_new_tokens or self.config.max_new_tokens,
                temperature=self.config.temperature if temperature is None else temperature,
                stop=list(stop or []),
                repeat_penalty=self.config.repeat_penalty,
                stream=True,
            )
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    yield text


class TransformersChat(ChatModel):
    """A model run by ``transformers``: fp32 on CPU, bf16 on CUDA with a static KV cache.

    GGUF files are dequantised once and saved under ``cache_dir`` so later starts load plain safetensors.
    """

    def __init__(self, model_path: Path, *, name: str, config: LLMConfig, cache_dir: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name
        self.config = config
        self.device = resolve_device(config.device)
        source = self._converted(model_path, cache_dir) if model_path.suffix == ".gguf" else model_path
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype).to(self.device).eval()
        if self.device.startswith("cuda"):
            # Each kernel launch costs tens of microseconds: a static cache lets generate() use CUDA graphs.
            self.model.generation_config.cache_implementation = "static"
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @staticmethod
    def _converted(gguf_path: Path, cache_dir: Path) -> Path:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        target = cache_dir / f"{gguf_path.stem}-hf"
        if (target / "config.json").exists():
            return target
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        # The weights are already dequantised; drop the GGUF marker so they save as plain safetensors.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        tokenizer.save_pretrained(partial)
        model.save_pretrained(partial)
        os.replace(partial, target)
        return target

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        """Generation runs in a worker thread feeding a streamer. A stop marker, a consumer that goes away
        (a closed client) or an error ends it: the worker is told to halt and joined before the lock is
        released, and its error (e.g. CUDA out of memory) is raised here instead of the stream hanging."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        messages = _check_messages(messages)
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        temperature = self.config.temperature if temperature is None else temperature
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        halt, failure = threading.Event(), []

        class Halted(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full(
                    (input_ids.shape[0],), halt.is_set(), dtype=torch.bool, device=input_ids.device
                )

        options = {
            **inputs,
            "max_new_tokens": max_new_tokens or self.config.max_new_tokens,
            "do_sample": temperature > 0,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([Halted()]),
            "repetition_penalty": self.config.repeat_penalty,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if temperature > 0:
            options["temperature"] = temperature
        else:
            options.update(temperature=None, top_p=None, top_k=None)

        def generate() -> None:
            try:
                self.model.generate(**options)
            except Exception as error:  # raised again in the caller's thread below
                failure.append(error)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=generate, daemon=True)
            worker.start()
            try:
                yield from _until_stop(streamer, stop or ())
            finally:
                halt.set()
                worker.join()
            if failure:
                raise failure[0]


class OpenAIChat(ChatModel):
    """Any OpenAI-compatible chat server (vLLM, Ollama, TGI, llama.cpp server, OpenAI itself)."""

    def __init__(self, config: LLMConfig) -> None:
        from openai import OpenAI

        self.name = config.model
        self.config = config
        self._client = OpenAI(
            base_url=config.base_url,
            api_key=os.environ.get(config.api_key_env) or "not-needed",
            timeout=config.timeout_s,
        )

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        response = self._client.chat.completions.create(
            model=self.config.model,
            messages=_check_messages(messages),  # type: ignore[arg-type]
            max_tokens=max_new_tokens or self.config.max_new_tokens,
            temperature=self.config.temperature if temperature is None else temperature,
            stop=list(stop) if stop else None,
            stream=True,
        )
        for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


# PUBLIC API


def escape_special_tokens(text: str) -> str:
    """``text`` with every string a tokenizer would read as a chat control token (``<|im_start|>``,
    ``</s>``, ``[INST]`` ...) broken by HTML-escaping its brackets, so quoted or typed text can never end its
    message and open a new one; escaped text no longer matches, so escaping twice changes nothing."""
    return _SPECIAL_TOKEN.sub(lambda m: m.group().replace("<", "&lt;").replace("[", "&#91;"), text)


def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def choose_engine(config: LLMConfig, model_path: Path) -> Literal["llama-cpp", "transformers"]:
    """llama.cpp for GGUF files on CPU (several times faster there), transformers otherwise."""
    if config.engine != "auto":
        return config.engine
    on_cpu = resolve_device(config.device) == "cpu"
    if model_path.suffix == ".gguf" and on_cpu and llama_cpp_available():
        return "llama-cpp"
    return "transformers"


@lru_cache(maxsize=4)
def load_chat_model(config: LLMConfig, data_dir: Path, allow_network: bool = False) -> ChatModel:
    """The chat model for ``config``, loaded once per process.

    Raises:
        AssetError: the model is not installed or fails its checksum.
        BadInputError: the engine cannot run this model (llama.cpp needs a GGUF file).
    """
    if config.backend == "openai":
        return OpenAIChat(config)
    registry = ModelRegistry(data_dir, allow_network=allow_network)
    path = (
        registry.resolve(config.model, kind="llm-gguf")
        if config.model in registry.names()
        else (registry.resolve(config.model))
    )
    engine = choose_engine(config, path)
    if engine == "llama-cpp":
        if path.suffix != ".gguf":
            raise BadInputError(
                f"The llama-cpp engine needs a .gguf file, got {path}; use engine=transformers."
            )
        weights = requantized(path, config.cpu_format, registry.models_dir)
        return LlamaCppChat(weights, name=config.model, config=config)
    return TransformersChat(path, name=config.model, config=config, cache_dir=registry.models_dir)
