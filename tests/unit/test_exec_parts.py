from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from k8s_debug_mcp.tools.commands import exit_status, explain_exit
from k8s_debug_mcp.tools.text import StreamCapture


def test_capture_under_the_cap_keeps_everything() -> None:
    cap = StreamCapture(100)
    cap.feed(b"hello ")
    cap.feed(b"world")
    assert (cap.text(), cap.total, cap.truncated) == (("hello world", 0), 11, False)


def test_capture_keeps_head_and_tail_and_says_how_much_was_cut() -> None:
    cap = StreamCapture(10)
    for i in range(100):
        cap.feed(f"{i:03d}\n".encode())
    text, _ = cap.text()
    assert cap.truncated
    assert cap.total == 400
    assert text == "000\n0" + "\n[… 390 bytes omitted …]\n" + "\n099\n"


def test_capture_never_shows_half_a_character_at_the_cut() -> None:
    cap = StreamCapture(9)
    cap.feed("é".encode() * 100)
    head, _, tail = cap.text()[0].partition("\n[…")
    assert "\ufffd" not in head
    assert "\ufffd" not in tail.split("\n", 1)[1]


def test_capture_strips_terminal_escapes_and_replaces_invalid_bytes() -> None:
    cap = StreamCapture(100)
    cap.feed(b"\x1b[31mred\x1b[0m \xff ok")
    assert cap.text() == ("red \ufffd ok", 0)


@given(st.lists(st.binary(max_size=300), max_size=30), st.integers(min_value=2, max_value=200))
def test_capture_memory_is_bounded_for_any_input(chunks: list[bytes], cap_size: int) -> None:
    cap = StreamCapture(cap_size)
    for chunk in chunks:
        cap.feed(chunk)
    assert len(cap._head) + len(cap._tail) <= cap_size + 2 * StreamCapture.MARGIN
    assert cap.total == sum(map(len, chunks))
    text, _ = cap.text()
    assert len(text) <= cap_size + 64  # characters: an invalid byte becomes one U+FFFD


def test_exit_codes_come_from_the_status_on_the_error_channel() -> None:
    assert exit_status({"status": "Success"}) == (0, None)
    failure = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    assert exit_status(failure) == (3, None)
    assert exit_status({"status": "Failure", "message": 'exec: "sh": executable file not found'}) == (
        None,
        'exec: "sh": executable file not found',
    )
    assert exit_status(None) == (None, None)


def test_exit_hints_explain_missing_commands_and_signals() -> None:
    assert "does not exist" in (explain_exit(127, None) or "")
    assert "does not exist" in (explain_exit(None, 'exec: "sh": executable file not found in $PATH') or "")
    assert "SIGKILL" in (explain_exit(137, None) or "")
    assert explain_exit(0, None) is None


def test_masking_runs_before_the_cut_so_no_secret_is_left_half_shown() -> None:
    from k8s_debug_mcp.tools.redact import Masker

    secret = "ghp_" + "Z" * 36
    cap = StreamCapture(64)
    cap.feed(b"x" * 20 + f" token {secret} ".encode() + b"y" * 200 + f" {secret}\n".encode())
    text, masked = cap.text(Masker().mask)
    assert "ZZZZ" not in text
    assert masked >= 1
