"""The "bare aiohttp handler" baseline: fixed bytes for both benchmarked requests.

Run by http_bench.py in its own process with the project's Python, one process, no
middleware, no logging: the ceiling an aiohttp service can reach on this machine.

    python bench/bare_server.py --port 9000 --get-file get.xml --post-file post.xml
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

CONTENT_TYPE = "text/xml; charset=utf-8"


def make_app(get_body: bytes, post_body: bytes) -> web.Application:
    """Two routes, each answering the same bytes the full service answers."""
    headers = {"Content-Type": CONTENT_TYPE}

    async def autoconfig(_request: web.Request) -> web.Response:
        return web.Response(body=get_body, headers=headers)

    async def autodiscover(request: web.Request) -> web.Response:
        await request.read()  # a real handler reads the request document
        return web.Response(body=post_body, headers=headers)

    app = web.Application()
    app.router.add_get("/mail/config-v1.1.xml", autoconfig)
    app.router.add_post("/autodiscover/autodiscover.xml", autodiscover)
    app.router.add_get("/healthz", healthz)
    return app


async def healthz(_request: web.Request) -> web.Response:
    """Readiness probe for the benchmark driver."""
    return web.Response(text="ok")


def main() -> None:
    """Parse the command line and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--get-file", type=Path, required=True)
    parser.add_argument("--post-file", type=Path, required=True)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args()
    app = make_app(args.get_file.read_bytes(), args.post_file.read_bytes())
    loop = None
    if args.uvloop:
        import uvloop  # noqa: PLC0415 - optional

        loop = uvloop.new_event_loop()
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
