"""A loopback DNS server for the simulated organisation's public zone (UDP and TCP on one port, 127.0.0.1).

Real DNS clients (dnspython's resolver in the connector) query it exactly as they query a recursive resolver: it
answers TXT questions from the zone (a `{name: [[character-string, ...], ...]}` map built by simulator.dns.zone),
NXDOMAIN for a name that does not exist, NOERROR with an empty answer (NODATA) for an existing name asked for
another type, and sets TC on UDP answers above 512 bytes so the client retries over TCP, as RFC 1035 §4.2.1 and
RFC 7766 require. The shared FaultPlan (simulator/faults.py) injects DNS faults, matched with method "DNS" and the
question name as the path: `delay` (no answer within the delay: a client timeout), `status` with `code`
SERVFAIL / REFUSED (that RCODE), `malformed_json` (bytes that are not a DNS message).
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

from simulator.email_zone import Zone, zone_answer
from simulator.faults import FaultPlan

UDP_LIMIT = 512  # RFC 1035 §4.2.1, without EDNS
TTL = 300



def _txt_rdata(strings: Sequence[str]) -> dns.rdata.Rdata:
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [s.encode() for s in strings])


class DnsZoneServer:
    """`with DnsZoneServer(zone, faults) as srv: srv.address` -> '127.0.0.1:<port>' (UDP and TCP)."""

    def __init__(self, zone: Zone, faults: FaultPlan | None = None) -> None:
        self.zone = {k.strip().rstrip(".").casefold(): [list(r) for r in v] for k, v in zone.items()}
        for name, records in self.zone.items():
            for rec in records:
                if any(len(s.encode()) > 255 for s in rec):  # RFC 1035 §3.3: a character-string is ≤ 255 octets
                    raise ValueError(f"zone {name}: a TXT character-string is longer than 255 octets")
        self.faults = faults or FaultPlan()
        self.queries: dict[str, int] = {"udp": 0, "tcp": 0}
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self.port = 0

    # ---- answers ------------------------------------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The reply to one query (None: send nothing, the client times out)."""
        with self._lock:
            self.queries[transport] += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:  # a malformed query gets FORMERR when its id can be read
            if len(wire) < 2:
                return None
            return wire[:2] + struct.pack("!HHHHH", 0x8001, 0, 0, 0, 0)
        if not query.question:
            return dns.message.make_response(query).to_wire()
        q = query.question[0]
        qname = q.name.to_text(omit_final_dot=True).casefold()
        fault = self.faults.match("DNS", qname, exact_method=True)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.delay)
                return None
            if fault.kind == "malformed_json":
                return wire[:2] + b"\x81\x80not a DNS message"
            if fault.kind == "status":
                resp = dns.message.make_response(query)
                resp.set_rcode(dns.rcode.from_text(fault.code or "SERVFAIL"))
                return resp.to_wire()
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.AA | dns.flags.RA
        found = zone_answer(self.zone, qname)
        if found["status"] == "nxdomain":
            resp.set_rcode(dns.rcode.NXDOMAIN)
        elif q.rdtype == dns.rdatatype.TXT and found["records"]:
            rrset = dns.rrset.from_rdata_list(q.name, TTL, [_txt_rdata(r) for r in found["records"]])
            resp.answer.append(rrset)
        out = resp.to_wire()
        if transport == "udp" and len(out) > UDP_LIMIT:
            resp.answer = []
            resp.flags |= dns.flags.TC
            out = resp.to_wire()
        return out

    # ---- sockets ------------------------------------------------------------------------------------------------
    def start(self) -> DnsZoneServer:
        srv = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = srv.answer(data, "udp")
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(5)
                try:
                    while True:
                        head = _read(sock, 2)
                        if head is None:
                            return
                        data = _read(sock, struct.unpack("!H", head)[0])
                        if data is None:
                            return
                        reply = srv.answer(data, "tcp")
                        if reply is None:
                            return
                        sock.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

        for _attempt in range(20):
            udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Udp)
            port = udp.server_address[1]
            try:
                tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), Tcp, bind_and_activate=False)
                tcp.allow_reuse_address = True
                tcp.server_bind()
                tcp.server_activate()
            except OSError:
                udp.server_close()
                continue
            break
        else:
            raise OSError("no free port for the simulated DNS server (UDP and TCP)")
        for s in (udp, tcp):
            s.daemon_threads = True
            t = threading.Thread(target=s.serve_forever, name=f"sim-dns-{type(s).__name__}", daemon=True)
            t.start()
            self._servers.append(s)
            self._threads.append(t)
        self.port = port
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers.clear()

    def __enter__(self) -> DnsZoneServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _read(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
