"""The deadline rule every engine applies to an answer: when decoding must stop, and the
finish-the-line exception when the prompt alone overran the deadline (a cold spot)."""

from __future__ import annotations

from smallcode_lsp.engine.speed import SpeedMeter

# When the prompt alone used up a request's deadline (a cold spot), the answer still gets the
# rest of its line, within this time from the first token (llama-server's t_max_predict_ms,
# which counts from the first token for this reason): stopping at the first token would waste
# the prefill just paid for on a one-word suggestion.
LINE_AFTER_OVERRUN_MS = 1000


def answer_deadline(
    deadline: float | None, prompt_done: float, speed: SpeedMeter, finish_line: bool = True
) -> tuple[float | None, bool]:
    """When decoding must stop, judged once the prompt is in the cache at `prompt_done`;
    True when the prompt overran `deadline` and the answer is the rest of its line instead.

    Not in a typing burst (`finish_line` off: the deadline is a share of the keystroke
    interval): the next key is due, an answer of a line would be cancelled by it unseen, and
    the first words now are what reaches the screen (the next key's request goes on from them).
    """
    if deadline is None or not finish_line or speed.step_fits(deadline, prompt_done):
        return deadline, False
    return prompt_done + LINE_AFTER_OVERRUN_MS / 1000, True
