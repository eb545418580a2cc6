"""Which exec commands skip the user's yes: only what cannot change anything, whatever the arguments."""

from __future__ import annotations

import pytest

from k8s_debug_mcp.tools.policy import Policy

POLICY = Policy()

READS = [
    ["ps"],
    ["/bin/ps", "aux"],
    ["cat", "/proc/1/status"],
    ["env"],
    ["date"],
    ["date", "+%s"],
    ["date", "-u", "-Iseconds"],
    ["hostname"],
    ["hostname", "-i"],
    ["wget", "-qO-", "http://x:8080/healthz"],
    ["wget", "-q", "-O", "-", "-T", "5", "--header", "Host: a", "http://x"],
    ["wget", "--timeout=3", "-O-", "http://x"],
]

CHANGES = [
    ["env", "rm", "-rf", "/"],  # env runs its arguments
    ["env", "-i", "sh"],
    ["/usr/bin/env", "FOO=1", "kill", "1"],
    ["date", "-s", "2020-01-01"],
    ["date", "010100002020"],
    ["hostname", "evil"],
    ["hostname", "-F", "/etc/passwd"],
    ["wget", "-O", "/etc/passwd", "http://x"],
    ["wget", "-qO-", "-o", "/etc/passwd", "http://x"],  # -o: the log goes to a file
    ["wget", "-qO-", "-a", "/x", "http://x"],
    ["wget", "-qO-", "--post-data=a", "http://x"],
    ["wget", "-qO-", "--method=DELETE", "http://x"],
    ["wget", "-qO-", "-P", "/tmp", "http://x"],
    ["wget", "-qOfile", "http://x"],
    ["wget", "-qo", "/x", "-O-", "http://x"],  # combined short flags
    ["wget", "http://x"],  # saves index.html
    ["sh", "-c", "ps"],
]


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_read_only_commands_in_our_debugger_skip_confirmation(argv: list[str]) -> None:
    assert not POLICY.exec_needs_confirm(argv, ours=True)


@pytest.mark.parametrize("argv", CHANGES, ids=" ".join)
def test_arguments_that_change_something_need_the_users_yes(argv: list[str]) -> None:
    assert POLICY.exec_needs_confirm(argv, ours=True)


def test_nothing_skips_confirmation_outside_our_debuggers() -> None:
    assert all(POLICY.exec_needs_confirm(argv, ours=False) for argv in READS)


def test_a_listed_shell_or_command_runner_still_needs_the_users_yes() -> None:
    loose = Policy(exec_without_confirm=("ps", "sh", "busybox", "xargs", "find"))
    for argv in (["sh", "-c", "rm -rf /"], ["busybox", "rm", "/x"], ["xargs", "rm"], ["find", "/", "-delete"]):
        assert loose.exec_needs_confirm(argv, ours=True)
    assert not loose.exec_needs_confirm(["ps"], ours=True)
