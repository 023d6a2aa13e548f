"""What the remote model believes llama-server's slot holds after each kind of ending: prompt
sizing counts those tokens as free, so the record must not claim more than the server kept."""

from __future__ import annotations

from smallcode_lsp.engine.info import NO_FIM, ModelInfo
from smallcode_lsp.engine.remote.http import Endpoint, HttpClient
from smallcode_lsp.engine.remote.llama_server import ServerFacts
from smallcode_lsp.engine.remote.remote_llama import LlamaServerModel
from smallcode_lsp.types import GenerationStats

INFO = ModelInfo("m.gguf", "?", "m", "", 0, 0, 0, 0, False, 0, 0)
PROMPT = list(range(1000))


def model() -> LlamaServerModel:
    facts = ServerFacts(INFO, 4096, 1, NO_FIM, None, False)
    served = LlamaServerModel(HttpClient(Endpoint("http://127.0.0.1:1")), facts, 0, 1000)
    served.speed.prefill_tokens_per_s = 1000.0  # 1 token a millisecond
    served.slot.tokens = PROMPT[:600]  # an earlier prompt shared the first 600 tokens
    return served


def account(served: LlamaServerModel, final: dict | None, first: float | None) -> list[int]:
    generated = [7, 8, 9] if first is not None or final is not None else []
    served._account(GenerationStats(), PROMPT, generated, 600, final, 0.0, first, 0.1)
    return served.slot.tokens


def test_an_answer_means_the_whole_prompt_is_held() -> None:
    final = {"stop": True, "timings": {"cache_n": 600, "prompt_n": 400}}
    assert account(model(), final, 0.05) == [*PROMPT, 7, 8]  # the last token was not decoded
    assert account(model(), None, 0.05) == [*PROMPT, 7, 8]  # closed after the first token


def test_a_cancel_mid_prompt_claims_only_what_the_engine_could_evaluate() -> None:
    # closed after 100 ms, no token: 600 cached + ~100 evaluated at 1000 tokens/s
    held = account(model(), None, None)
    assert held == PROMPT[:700]
    served = model()
    assert served.shared_prefix(PROMPT) == 600
    account(served, None, None)
    assert served.shared_prefix(PROMPT) == 700  # not 1000: sizing pays for the rest


class Answers:
    """A stand-in HttpClient answering POST /completion with one fixed body."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.bodies: list[dict] = []

    def post_json(self, path: str, body: dict, cancel: object = None) -> dict:
        self.bodies.append(body)
        return self.answer


def test_the_warm_up_seeds_the_prompt_speed() -> None:
    served = model()
    client = Answers({"timings": {"prompt_n": 300, "prompt_ms": 60.0}})
    served.client = client  # type: ignore[assignment]
    served.measure_prompt_speed()
    assert served.speed.prefill_tokens_per_s == 5000.0
    (body,) = client.bodies
    assert body["n_predict"] == 0 and body["cache_prompt"] is False and body["id_slot"] == 0


def test_a_warm_up_too_small_or_without_timings_keeps_the_guess() -> None:
    for answer in ({"timings": {"prompt_n": 3, "prompt_ms": 1.0}}, {}):
        served = model()
        served.speed.prefill_tokens_per_s = 200.0
        served.client = Answers(answer)  # type: ignore[assignment]
        served.measure_prompt_speed()
        assert served.speed.prefill_tokens_per_s == 200.0
