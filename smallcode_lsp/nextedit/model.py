"""The next-edit model predictor: a GGUF of a next-edit model on its own in-process engine
(one more worker thread, so the completion model's KV cache is never evicted by it).

The prompt is built from the format's data file on the event loop; the engine's thread only
tokenizes, decodes (prompt-lookup drafts help: the answer repeats most of its window) and
stops at the format's stop strings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future

from smallcode_lsp.engine.base import CompletionModel, Engine
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions, ModelInfo
from smallcode_lsp.nextedit.history import UserEdit
from smallcode_lsp.nextedit.model_format import Format, build_prompt, format_for, parse_answer
from smallcode_lsp.nextedit.propagate import Site
from smallcode_lsp.types import Completion, GenerationParams

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 3.0  # a next edit later than this is stale: the user has moved on


class NextEditJob:
    """One model call: `prompt` in, the generated text out (an `EngineJob`)."""

    def __init__(self, prompt: str, fmt: Format) -> None:
        self.prompt, self.fmt = prompt, fmt

    def run(self, model: CompletionModel, cancel: CancelToken) -> list[Completion]:
        tokens = model.blocks.tokenize(self.prompt)
        if model.add_bos and model.bos is not None:
            tokens = [model.bos, *tokens]
        room = model.n_ctx - len(tokens)
        if room < 16:
            return [Completion("")]
        params = GenerationParams(max_tokens=min(self.fmt.max_tokens, room))
        text, stats = model.generate(tokens, params, [self._stop], cancel)
        return [Completion(text, stats)]

    def _stop(self, text: str) -> int | None:
        cuts = [text.index(s) for s in self.fmt.stop if s in text]
        return min(cuts) if cuts else None


class NextEditModel:
    """Owns the next-edit engine and its format. Event-loop thread (the engine has its own)."""

    def __init__(self, make_engine: Callable[[], Engine]) -> None:
        self._make_engine = make_engine
        self._engine: Engine | None = None
        self._path: str | None = None
        self.format: Format | None = None
        self.error: str | None = None  # a setting that cannot work (no format for the file)
        self.loading: Future[ModelInfo] | None = None
        self.asked = 0  # model calls, and those whose answer was an edit
        self.answered = 0

    def configure(self, path: str | None, format_name: str | None, options: LoadOptions) -> None:
        """Load `path` (None: no model predictor). A format that cannot be told is an error
        for the user, not a guess."""
        if path == self._path and (self.format is None or format_name in (None, self.format.name)):
            return
        self.close()
        self._path, self.error = path, None
        if path is None:
            return
        self.format = format_for(path, format_name)
        if self.format is None:
            self.error = f"no next-edit prompt format matches {path}: set nextEditFormat"
            return
        self._engine = self._make_engine()
        self.loading = self._engine.load(lambda: path, options)

    @property
    def active(self) -> bool:
        """Configured and not failed (a failed load is in the engine's status: `status()`)."""
        if self._engine is None or self.format is None or self.error is not None:
            return False
        return self._engine.status().error is None

    def status(self) -> dict[str, object]:
        engine = self._engine.status() if self._engine is not None else None
        return {
            "model": self._path,
            "format": self.format.name if self.format else None,
            "loaded": bool(engine and engine.model),
            "asked": self.asked,
            "answered": self.answered,
            "error": self.error or (engine.error if engine else None),
        }

    async def predict(
        self, path: str, text: str, cursor: int, recent: list[UserEdit]
    ) -> Site | None:
        if self._engine is None or self.format is None:
            return None
        prompt = build_prompt(self.format, path, text, cursor, recent)
        if prompt is None:
            return None
        cancel = CancelToken()
        self.asked += 1
        future = self._engine.complete(NextEditJob(prompt.text, self.format), cancel)
        try:
            answers = await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_TIMEOUT_S)
        except asyncio.CancelledError:
            cancel.cancel()
            raise
        except Exception as exc:  # timeout, no model yet, engine fault: no model edit this time
            cancel.cancel()
            log.info("next-edit model: no answer (%s)", type(exc).__name__)
            return None
        site = parse_answer(self.format, prompt, answers[0].text, text) if answers else None
        self.answered += site is not None
        return site

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine, self.format = None, None
