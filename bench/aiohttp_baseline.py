"""A bare aiohttp server: what the branch's aiohttp can serve with no work per request.

    python bench/aiohttp_baseline.py PORT BODY_FILE

Answers every request with the bytes of BODY_FILE and the headers the
branch sends with an instance (`Content-Type: application/json`,
`Vary: Origin`, `X-Content-Type-Options: nosniff`, an `X-Request-Id` of the
same length), on
127.0.0.1:PORT, from aiohttp's low-level server like the branch's, without
an access log. Once listening it prints one line on stdout, as the branch
does: {"event": "ready", "url": ...}. It stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

HOST = "127.0.0.1"
REQUEST_ID = "0" * 32


async def serve(port: int, body: bytes) -> None:
    headers = {
        "Vary": "Origin",
        "X-Content-Type-Options": "nosniff",
        "Content-Type": "application/json",
        "X-Request-Id": REQUEST_ID,
    }

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(body=body, headers=headers)

    runner = web.ServerRunner(web.Server(handle))
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    ready = {"event": "ready", "url": f"http://{HOST}:{port}", "pid": os.getpid()}
    print(json.dumps(ready), flush=True)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    asyncio.run(serve(int(argv[0]), Path(argv[1]).read_bytes()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
