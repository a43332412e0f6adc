"""A small authoritative DNS server on 127.0.0.1 (UDP and TCP, one port) for a test zone.

The zone is a dict: name -> list of (type, rdata text), e.g.
``{"_imaps._tcp.example.com": [("SRV", "0 1 993 imap.example.com.")]}``. Names not in the
zone get NXDOMAIN; a known name without records of the asked type gets an empty answer.
Like dnspython's own tests/nanonameserver.py: bind port 0, read the port back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import TYPE_CHECKING, Self

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

if TYPE_CHECKING:
    from collections.abc import Iterable

Zone = dict[str, list[tuple[str, str]]]


def a_records(names: Iterable[str], address: str = "127.0.0.1") -> Zone:
    """An A record for each name."""
    return {name: [("A", address)] for name in names}


class DnsServer:
    """Answers queries for ``zone``; ``queries`` lists (name, type) as asked."""

    def __init__(self, zone: Zone, ttl: int = 60) -> None:
        self.zone = {dns.name.from_text(k).canonicalize(): v for k, v in zone.items()}
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    @property
    def nameserver(self) -> str:
        """``127.0.0.1:port``, as the health_nameservers setting reads it."""
        return f"127.0.0.1:{self.port}"

    def answer(self, wire: bytes) -> bytes:
        """The response to one query message."""
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for question in query.question:
            name = question.name.canonicalize()
            kind = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name.to_text(omit_final_dot=True), kind))
            records = self.zone.get(name)
            if records is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                continue
            texts = [text for rtype, text in records if rtype == kind]
            if texts:
                rrset = dns.rrset.from_text_list(
                    question.name, self.ttl, dns.rdataclass.IN, question.rdtype, texts
                )
                response.answer.append(rrset)
        return response.to_wire()

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # UDP and TCP on the same free port
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                self._tcp = await asyncio.start_server(self._stream, "127.0.0.1", port)
            except OSError:
                udp.close()
                continue
            self.port = port
            break
        else:  # pragma: no cover - twenty taken ports in a row
            msg = "no free port for the DNS server"
            raise RuntimeError(msg)
        server = self

        class Datagrams(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                with contextlib.suppress(Exception):
                    self.transport.sendto(server.answer(data), addr)  # type: ignore[attr-defined]

        self._udp, _ = await loop.create_datagram_endpoint(Datagrams, sock=udp)
        return self

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (size,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.answer(await reader.readexactly(size))
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    async def __aexit__(self, *exc: object) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 2)
