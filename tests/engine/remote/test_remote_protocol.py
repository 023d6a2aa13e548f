"""The remote engine's pure parts: SSE parsing, slot hashing, request bodies, answers read."""

from __future__ import annotations

import pytest

from smallcode_lsp.engine.deadline import LINE_AFTER_OVERRUN_MS
from smallcode_lsp.engine.info import FimTokens
from smallcode_lsp.engine.remote.engine import client_key
from smallcode_lsp.engine.remote.http import BadResponse, Endpoint, parse_sse_line
from smallcode_lsp.engine.remote.llama_server import (
    Timings,
    completion_body,
    infill_body,
    prefill_body,
    slot_for,
    stop_reason,
    token_list,
    tokenize_body,
)
from smallcode_lsp.engine.remote.remote_model import SlotPrompt, StreamText
from smallcode_lsp.engine.stops import stop_at_line_end
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason


def events(raw: bytes) -> list[dict]:
    pending: list[bytes] = []
    out = []
    for line in raw.splitlines(keepends=True):
        event = parse_sse_line(line, pending)
        if event is not None:
            out.append(event)
    return out


def test_sse_events_end_at_blank_lines_and_skip_pings_and_done() -> None:
    raw = (
        b'data: {"content": " a", "tokens": [496]}\n\n'
        b":\n\n"  # llama-server's keep-alive ping
        b'data: {"content": "", "stop": true}\r\n\r\n'
        b"data: [DONE]\n\n"
    )
    assert events(raw) == [{"content": " a", "tokens": [496]}, {"content": "", "stop": True}]


def test_sse_error_event_and_garbage_raise() -> None:
    with pytest.raises(BadResponse, match="reported an error"):
        events(b'data: {"error": {"code": 500, "message": "boom"}}\n\n')
    with pytest.raises(BadResponse, match="unreadable"):
        events(b"data: <html>\n\n")
    with pytest.raises(BadResponse):
        events(b"data: [1, 2]\n\n")


def test_slot_is_stable_per_client_and_spreads_users() -> None:
    assert slot_for("ann@box:/repo", 4) == slot_for("ann@box:/repo", 4)
    assert all(0 <= slot_for(f"user{i}", 4) < 4 for i in range(50))
    assert len({slot_for(f"user{i}@box:/repo", 4) for i in range(40)}) == 4
    assert slot_for("anyone", 1) == 0
    assert slot_for("anyone", 0) == 0  # a server reporting no slots: still a valid id


def test_client_key_names_user_host_and_roots_in_a_stable_order() -> None:
    assert client_key(["/b", "/a"]) == client_key(["/a", "/b"])
    assert client_key(["/a"]) != client_key(["/b"])


def test_completion_body_is_greedy_bounded_and_streams_our_tokens() -> None:
    body = completion_body([2, 10, 11], GenerationParams(max_tokens=32), 3, 100.0, 5000)
    assert body["prompt"] == [2, 10, 11]
    assert body["n_predict"] == 32
    assert body["stream"] is True and body["cache_prompt"] is True
    assert body["id_slot"] == 3
    assert body["samplers"] == ["top_k"] and body["top_k"] == 1
    assert body["t_max_predict_ms"] == 5000  # no deadline: the timeout bounds it


def test_completion_body_time_limit_follows_the_deadline() -> None:
    soon = GenerationParams(deadline=100.0 + 2.5)
    assert completion_body([1], soon, 0, 100.0, 9000)["t_max_predict_ms"] == 2500
    past = GenerationParams(deadline=99.0)  # the prompt will overrun: the line still comes
    assert completion_body([1], past, 0, 100.0, 9000)["t_max_predict_ms"] == LINE_AFTER_OVERRUN_MS


QWEN = FimTokens(pre=90, suf=91, mid=92, repo=93, file_sep=94)


def test_infill_body_carries_our_prefix_and_suffix_tokens_and_the_snippets() -> None:
    # [REPO] workspace [FILE_SEP] a.py... [FILE_SEP] main.py [PRE] prefix [SUF] suffix [MID]
    prompt = [93, 5, 94, 6, 7, 94, 8, 90, 10, 11, 91, 20, 21, 92]
    params = GenerationParams(
        max_tokens=16, deadline=101.0, context_files=(("a.py", "def f():\n    pass\n\n"),)
    )
    body = infill_body(prompt, QWEN, params, 2, 100.0, 9000)
    assert body is not None
    assert (body["input_prefix"], body["input_suffix"]) == ([10, 11], [20, 21])
    assert body["input_extra"] == [{"filename": "a.py", "text": "def f():\n    pass\n"}]
    assert "prompt" not in body  # the server would append it to the prefix
    # bounded exactly like /completion
    assert body["n_predict"] == 16 and body["t_max_predict_ms"] == 1000
    assert body["stream"] is True and body["cache_prompt"] is True and body["id_slot"] == 2
    assert body["samplers"] == ["top_k"] and body["top_k"] == 1


def test_infill_body_only_for_fim_prompts() -> None:
    params = GenerationParams()
    assert infill_body([1, 2, 3], QWEN, params, 0, 0.0, 1000) is None  # prefix-only prompt
    assert infill_body([90, 1, 92], QWEN, params, 0, 0.0, 1000) is None  # no [SUF]
    assert infill_body([90, 1, 91, 2, 92], FimTokens(None, None, None), params, 0, 0.0, 1) is None
    # FIM without repo-level tokens: the context is comments inside the prefix already
    plain = FimTokens(pre=90, suf=91, mid=92)
    with_files = GenerationParams(context_files=(("a.py", "x"),))
    body = infill_body([90, 1, 91, 2, 92], plain, with_files, 0, 0.0, 1000)
    assert body is not None and body["input_extra"] == []


def test_sampling_with_temperature() -> None:
    body = completion_body([1], GenerationParams(temperature=0.7), 0, 0.0, 1000)
    assert body["samplers"] == ["top_k", "top_p", "temperature"]
    assert body["temperature"] == 0.7


def test_prefill_and_tokenize_bodies() -> None:
    assert prefill_body([1, 2], 1)["n_predict"] == 0
    assert tokenize_body("x <bos>")["parse_special"] is False  # user code stays text


def test_stop_reasons() -> None:
    assert stop_reason({"stop_type": "eos"}, 64) is StopReason.EOG
    assert stop_reason({"stop_type": "limit", "tokens_predicted": 64}, 64) is StopReason.MAX_TOKENS
    assert stop_reason({"stop_type": "limit", "tokens_predicted": 9}, 64) is StopReason.DEADLINE


def test_timings_tolerate_garbage() -> None:
    final = {"timings": {"cache_n": 5, "prompt_n": 7, "prompt_ms": 12.5, "predicted_ms": "x"}}
    assert Timings.of(final) == Timings(cache_n=5, prompt_n=7, prompt_ms=12.5)
    assert Timings.of({"timings": [1]}) == Timings()


def test_token_list_validation() -> None:
    assert token_list([1, 2], "t") == [1, 2]
    for bad in (None, [1, "2"], [True], {"a": 1}):
        with pytest.raises(BadResponse):
            token_list(bad, "t")


def test_stream_text_applies_stop_rules_as_pieces_arrive() -> None:
    stats = GenerationStats()
    text = StreamText([stop_at_line_end], stats)
    assert not text.add("a +")
    assert text.add(" b\n    c")
    assert text.text == "a + b"
    assert stats.stop_reason is StopReason.STOP_RULE


def test_stream_text_line_only_after_an_overrun() -> None:
    stats = GenerationStats()
    text = StreamText([], stats)
    text.line_only = True
    assert not text.add("\n    x = 1")
    assert text.add("\n    y")
    assert text.text == "\n    x = 1"
    assert stats.stop_reason is StopReason.DEADLINE


def test_slot_prompt_shared_prefix() -> None:
    slot = SlotPrompt()
    slot.tokens = [1, 2, 3, 4]
    assert slot.shared_prefix([1, 2, 9]) == 2
    assert slot.shared_prefix([1, 2, 3, 4, 5]) == 4
    assert len(slot) == 4


def test_endpoint_repr_hides_the_key() -> None:
    assert "s3cret" not in repr(Endpoint("http://h", "s3cret"))
