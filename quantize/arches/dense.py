"""Dense checkpoints (a bonus beside the MoE families): Llama (`llama`, Q/K permuted) and
Qwen3 (`qwen3`, q/k norms, NEOX rope)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.arches.base import Arch
from quantize.arches.mixtral import Mixtral
from quantize.gguf_names import COMMON, DENSE_FFN, QK_NORM
from quantize.registry import register


@register("LlamaForCausalLM")
class Llama(Mixtral):
    """llama.cpp arch `llama` without experts."""

    tables: ClassVar[tuple[Mapping[str, T], ...]] = (COMMON, DENSE_FFN)

    @property
    def is_moe(self) -> bool:
        return False


@register("Qwen3ForCausalLM")
class Qwen3(Arch):
    """llama.cpp arch `qwen3`."""

    gguf_arch = "qwen3"
    tables: ClassVar[tuple[Mapping[str, T], ...]] = (COMMON, QK_NORM, DENSE_FFN)

    @property
    def is_moe(self) -> bool:
        return False

    def extra_metadata(self, w: GGUFWriter) -> None:
        """No extra keys: qwen3 reads only the common ones."""
