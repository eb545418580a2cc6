"""stdio on the event loop: the SDK's transport, without a worker thread per line.

The SDK's ``stdio_server()`` reads and writes through ``anyio.wrap_file``: every line read,
every write and every flush is a hop to a worker thread and back (three per request and
answer, about 1 ms of a call's latency on a loaded 2-core machine; ``bench/`` measures it).
When both standard streams are pipes or sockets (how MCP clients start servers), this module
serves the same transport with the loop's own pipe readers and writers instead, and keeps the
SDK's guard for the wire: while serving, fd 0 reads the null device and fd 1 writes to stderr,
so a child process or a stray print cannot corrupt the protocol; both are restored on exit.
Anything else (a terminal, a file, a test harness's streams) gets the SDK's transport as is.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

from mcp.server.stdio import stdio_server

__all__ = ["serve_stdio"]

MAX_LINE: Final = 64 * 1024 * 1024
"""The longest JSON-RPC line read (asyncio's default, 64 KiB, is less than an exec's stdin may be)."""


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """What the SDK reads requests from: ``async for line in stdin``."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readline()
        except ValueError:  # a line past MAX_LINE: the SDK answers a parse error and reads on
            return "{"
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Writer:
    """What the SDK writes answers to: ``await stdout.write(line)``, then ``await stdout.flush()``."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))
        await self._writer.drain()  # a closed pipe raises BrokenPipeError/ConnectionResetError here

    async def flush(self) -> None:
        return None


def _divert(fd: int, target: Callable[[], int]) -> tuple[int, Callable[[], None]]:
    """A duplicate of fd for the wire (the caller's to close); fd itself now points at target.

    Returns the restore, which points fd back at the wire from a second, kept duplicate."""
    kept = os.dup(fd)  # not inherited by children (PEP 446), like every duplicate here
    wire = os.dup(kept)
    diversion = target()
    try:
        os.dup2(diversion, fd)
    finally:
        os.close(diversion)

    def restore() -> None:
        os.set_blocking(kept, True)  # the loop made the shared file description non-blocking
        os.dup2(kept, fd)
        os.close(kept)

    return wire, restore


@asynccontextmanager
async def _loop_stdio() -> AsyncIterator[tuple[object, object]]:
    loop = asyncio.get_running_loop()
    sys.stdout.flush()
    restores: list[Callable[[], None]] = []
    transports: list[asyncio.BaseTransport] = []
    try:
        in_fd, restore = _divert(0, lambda: os.open(os.devnull, os.O_RDONLY))
        restores.append(restore)
        stdin = os.fdopen(in_fd, "rb", buffering=0)  # closed with its transport (or here, on failure)
        out_fd, restore = _divert(1, lambda: os.dup(2))
        restores.append(restore)
        stdout = os.fdopen(out_fd, "wb", buffering=0)
        reader = asyncio.StreamReader(limit=MAX_LINE)
        try:
            read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
            transports.append(read_transport)
            write_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
            transports.append(write_transport)
        except BaseException:
            stdin.close()
            stdout.close()
            raise
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        async with stdio_server(stdin=_Lines(reader), stdout=_Writer(writer)) as streams:  # type: ignore[arg-type]
            yield streams
    finally:
        for transport in transports:
            transport.close()
        for restore in reversed(restores):
            restore()


def serve_stdio() -> AbstractAsyncContextManager[tuple[object, object]]:
    """The stdio transport: on the loop for pipes and sockets, else the SDK's own."""
    if sys.platform != "win32" and _is_pipe_or_socket(0) and _is_pipe_or_socket(1):
        return _loop_stdio()
    return stdio_server()
