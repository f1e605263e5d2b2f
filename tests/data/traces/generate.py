#!/usr/bin/env python3
"""Writes the generated part of the `sipprobe analyze` test corpus (tests/data/traces/).

Run from anywhere: python3 tests/data/traces/generate.py. Deterministic: the same files
every time, so the output is committed and the tests never run this. The hand-written
pastes (paste_*.txt) are not touched.

Each scenario is a list of messages (time offset, source, destination, bytes) between a
phone and a registrar; renderers write it as ngrep, Asterisk, FreeSWITCH and sngrep text
and as pcap (Ethernet, VLAN, SLL, SLL2, NULL, raw IP, IPv6, TCP) captures. The digest
responses are real (MD5, RFC 2617 qop=auth) so the --password checks can be tested:
the phone's password is "secret-1001".
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1714557600.0  # 2024-05-01T10:00:00Z
PHONE = ("10.0.0.5", 5060)
SERVER = ("198.51.100.7", 5060)
DOMAIN = "sip.example.com"
PASSWORD = "secret-1001"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def digest(user, realm, nonce, uri, password, cnonce="0a4f113b", nc="00000001", method="REGISTER"):
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    return md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


class Phone:
    def __init__(self, user="1001", auth_user=None, host=PHONE[0], port=PHONE[1], call_id="a84b4c76e66710@10.0.0.5",
                 contact_host=None, expires=3600, transport="UDP"):
        self.user, self.auth_user = user, auth_user or user
        self.host, self.port = host, port
        self.call_id = call_id
        self.contact_host = contact_host or host
        self.expires = expires
        self.transport = transport
        self.cseq = 0

    def register(self, challenge=None, password=PASSWORD, realm=None, nonce=None, expires=None, uri=None,
                 proxy=False, branch=None, contact=None, nc="00000001"):
        self.cseq += 1
        ruri = f"sip:{DOMAIN}"
        br = branch or f"z9hG4bK776asdhds{self.cseq}"
        exp = self.expires if expires is None else expires
        lines = [
            f"REGISTER {ruri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport} {self.host}:{self.port};branch={br};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.user}@{DOMAIN}>;tag=456248",
            f"To: <sip:{self.user}@{DOMAIN}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: {contact or f'<sip:{self.user}@{self.contact_host}:{self.port}>'}",
            f"Expires: {exp}",
            "User-Agent: TestPhone/1.0",
        ]
        if challenge is not None:
            r = realm if realm is not None else challenge["realm"]
            n = nonce if nonce is not None else challenge["nonce"]
            u = uri or ruri
            resp = digest(self.auth_user, r, n, u, password, nc=nc)
            name = "Proxy-Authorization" if proxy else "Authorization"
            lines.append(f'{name}: Digest username="{self.auth_user}", realm="{r}", nonce="{n}", uri="{u}", '
                         f'response="{resp}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc={nc}')
        lines.append("Content-Length: 0")
        return "\r\n".join(lines) + "\r\n\r\n"


def respond(req, status, reason, extra=(), received=None, rport=None, via_override=None, contacts=None, to_tag=True):
    hdrs = {}
    for line in req.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.setdefault(k, v.strip())
    via = via_override or hdrs["Via"]
    if received:
        via = via.replace(";rport", f";received={received}") if ";rport" in via else via + f";received={received}"
    if rport:
        via += f";rport={rport}"
    lines = [f"SIP/2.0 {status} {reason}", f"Via: {via}", f"From: {hdrs['From']}",
             f"To: {hdrs['To']}" + (";tag=as6151ad25" if to_tag else ""), f"Call-ID: {hdrs['Call-ID']}",
             f"CSeq: {hdrs['CSeq']}"]
    if contacts is not None:
        lines += [f"Contact: {c}" for c in contacts]
    lines += list(extra)
    lines += ["Server: TestRegistrar/1.0", "Content-Length: 0"]
    return "\r\n".join(lines) + "\r\n\r\n"


def challenge(realm=DOMAIN, nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", stale=False, proxy=False):
    name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    v = f'{name}: Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"'
    if stale:
        v += ", stale=true"
    return {"realm": realm, "nonce": nonce, "header": v}


def flow(*steps):
    """steps: (t, 'up'|'down', message[, src, dst]) -> list of (t, src, dst, bytes)."""
    out = []
    for s in steps:
        t, d, m = s[0], s[1], s[2]
        src, dst = (PHONE, SERVER) if d == "up" else (SERVER, PHONE)
        if len(s) > 3:
            src, dst = s[3], s[4]
        out.append((T0 + t, src, dst, m.encode()))
    return out


# ---------------------------------------------------------------- scenarios

def sc_registered(answer_at=0.043):
    p = Phone()
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch)
    return flow((0.0, "up", r1), (0.021, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (answer_at, "up", r2),
                (answer_at + 0.022, "down", respond(r2, 200, "OK", contacts=[f"<sip:1001@10.0.0.5:5060>;expires=3600"])))


def sc_auth_failed(password="wrong-password"):
    p = Phone()
    ch = challenge()
    ch2 = challenge(nonce="a2f5b1c0e8d74f6b9a1c3e5d7f9b1d3f")
    r1 = p.register()
    r2 = p.register(ch, password=password)
    r3 = p.register(ch2, password=password)
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 401, "Unauthorized", [ch2["header"]])),
                (0.08, "up", r3), (0.10, "down", respond(r3, 401, "Unauthorized", [ch2["header"]])))


def sc_auth_not_attempted():
    p = Phone()
    r1 = p.register()
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [challenge()["header"]])))


def sc_final(status, reason, extra=()):
    p = Phone()
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch)
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, status, reason, list(extra))))


def sc_interval_too_brief():
    p = Phone(expires=60)
    r1 = p.register()
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 423, "Interval Too Brief", ["Min-Expires: 3600"])))


def sc_expires_raised():
    p = Phone(expires=60)
    ch = challenge()
    r1 = p.register()
    r2 = p.register(expires=3600)
    r3 = p.register(ch, expires=3600)
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 423, "Interval Too Brief", ["Min-Expires: 3600"])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 401, "Unauthorized", [ch["header"]])),
                (0.08, "up", r3), (0.10, "down", respond(r3, 200, "OK", contacts=["<sip:1001@10.0.0.5:5060>;expires=3600"])))


def sc_proxy_auth_failed():
    p = Phone()
    ch = challenge(realm="proxy.example.com", proxy=True)
    r1 = p.register()
    r2 = p.register(ch, password="wrong", proxy=True)
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 407, "Proxy Authentication Required", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 407, "Proxy Authentication Required", [ch["header"]])))


def sc_no_response():
    p = Phone()
    r1 = p.register()
    # RFC 3261 Timer E: 0.5, 1, 2, 4, 4, 4 … s until Timer F (32 s).
    times = [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    # The capture goes on past Timer F (another phone's OPTIONS at 40 s): the phone gave
    # up, the trace did not just stop.
    other = (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKka\r\n"
             f"From: <sip:1009@{DOMAIN}>;tag=9\r\nTo: <sip:{DOMAIN}>\r\nCall-ID: keepalive-1009\r\n"
             "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    return flow(*[(t, "up", r1) for t in times], (40.0, "up", other, ("10.0.0.9", 5060), SERVER))


def sc_trying_then_silence():
    # The registrar took the request (100 Trying) and never finished it: the path works.
    p = Phone()
    r1 = p.register()
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 100, "Trying")))


def sc_trying_then_silence_timed():
    # The same with times, the phone retransmitting every T2 after the 100 (RFC 3261
    # §17.1.2.2) and the capture going on past Timer F.
    msgs = sc_trying_then_silence()
    r1 = msgs[0][3].decode()
    return msgs + flow(*[(t, "up", r1) for t in (4, 8, 12, 16, 20, 24, 28)]) + sc_no_response()[-1:]


def sc_nat(received=True):
    # Captured at the registrar: the phone's private Contact/Via arrive from a public address.
    # Without `received` the registrar adds neither received nor rport: only the packet's
    # own source address shows the NAT (issue 13, item 27).
    public = ("203.0.113.9", 40001)
    p = Phone(host="192.168.1.20", contact_host="192.168.1.20")
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch)
    seen = dict(received="203.0.113.9", rport=40001) if received else {}
    return flow((0.0, "up", r1, public, SERVER),
                (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]], **seen), SERVER, public),
                (0.04, "up", r2, public, SERVER),
                (0.06, "down", respond(r2, 200, "OK", contacts=["<sip:1001@192.168.1.20:5060>;expires=3600"], **seen),
                 SERVER, public))


def sc_alg():
    # Captured at the phone: the response echoes a Via the phone never sent and lists a
    # Contact with the public address: something in between rewrote the request.
    p = Phone()
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch)
    rewritten = "SIP/2.0/UDP 203.0.113.9:40001;branch=z9hG4bK776asdhds2;rport=40001"
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2),
                (0.06, "down", respond(r2, 200, "OK", via_override=rewritten,
                                       contacts=["<sip:1001@203.0.113.9:40001>;expires=3600"])))


def sc_mismatch(kind):
    p = Phone()
    ch = challenge()
    r1 = p.register()
    if kind == "realm":
        r2 = p.register(ch, realm="asterisk")
    else:
        r2 = p.register(ch, nonce="0000000000000000000000000000dead")
    ch2 = challenge(nonce="a2f5b1c0e8d74f6b9a1c3e5d7f9b1d3f")
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 401, "Unauthorized", [ch2["header"]])))


def sc_extension():
    p = Phone(user="alice", auth_user="1001")
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch, password="wrong")
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 403, "Forbidden")))


def sc_two_attempts():
    # A failed registration (auth), then later another Call-ID that succeeds.
    failed = sc_auth_failed()
    ok = sc_registered()
    ok = [(t + 120, s, d, m.replace(b"a84b4c76e66710@10.0.0.5", b"second-call-id@10.0.0.5")) for t, s, d, m in ok]
    return failed + ok


def sc_options_only():
    m = (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKopt\r\n"
         f"From: <sip:1001@{DOMAIN}>;tag=1\r\nTo: <sip:{DOMAIN}>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n")
    return flow((0.0, "up", m))


def sc_removal_nat():
    # Captured at the registrar: a phone behind NAT removes its binding (Expires: 0, a Contact
    # without parameters); the 200 lists the binding of another device that stays. Nothing
    # of the NAT or of the Contact missing from the 200 is a finding: a removal registers
    # nothing (issue 13, item 1).
    public = ("203.0.113.9", 40001)
    p = Phone(host="192.168.1.20", contact_host="192.168.1.20", expires=0)
    ch = challenge()
    r1 = p.register()
    r2 = p.register(ch)
    return flow((0.0, "up", r1, public, SERVER),
                (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]], received="203.0.113.9", rport=40001), SERVER, public),
                (0.04, "up", r2, public, SERVER),
                (0.06, "down", respond(r2, 200, "OK", received="203.0.113.9", rport=40001,
                                       contacts=["<sip:1001@198.51.100.44:5060>;expires=1800"]), SERVER, public))


def sc_removal_star():
    # Contact: * with Expires: 0 removes every binding (RFC 3261 §10.2.2).
    p = Phone(expires=0)
    ch = challenge()
    r1 = p.register(contact="*")
    r2 = p.register(ch, contact="*")
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [ch["header"]])),
                (0.04, "up", r2), (0.06, "down", respond(r2, 200, "OK")))


def sc_stale_refresh():
    # A refresh: the phone reuses the nonce of its last registration (nc 2), the registrar
    # says it is stale and gives a new one, the phone answers with it (RFC 7616 §3.3).
    p = Phone()
    p.cseq = 4
    old = challenge(nonce="0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld00")
    new = challenge(nonce="5ea5ea5ea5ea5ea5ea5ea5ea5ea5ea55", stale=True)
    r1 = p.register(old, nc="00000002")
    r2 = p.register(new)
    return flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [new["header"]])),
                (0.04, "up", r2),
                (0.06, "down", respond(r2, 200, "OK", contacts=["<sip:1001@10.0.0.5:5060>;expires=3600"])))


def sc_slow_answer():
    # The phone answers the challenge 34 s later (same Call-ID, CSeq + 1, the challenged
    # nonce): one attempt, whatever the idle timer says (issue 13, item 7).
    return sc_registered(answer_at=34.0)


def sc_nonce_changed():
    # A registrar that refuses a nonce it says has changed (no stale=true), and the same
    # phone registering a minute later with the same password under a new Call-ID: the
    # password is right, the nonce was the problem (issue 13, item 11).
    p = Phone()
    a = challenge()
    b = challenge(nonce="b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0")
    r1 = p.register()
    r2 = p.register(a)
    first = flow((0.0, "up", r1), (0.02, "down", respond(r1, 401, "Unauthorized", [a["header"]])),
                 (0.04, "up", r2), (0.06, "down", respond(r2, 401, "Unauthorized (nonce has changed)", [b["header"]])))
    q = Phone(call_id="c0ffee0000000001@10.0.0.5")
    c = challenge(nonce="c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0")
    s1 = q.register()
    s2 = q.register(c)
    later = flow((60.0, "up", s1), (60.02, "down", respond(s1, 401, "Unauthorized", [c["header"]])),
                 (60.04, "up", s2),
                 (60.06, "down", respond(s2, 200, "OK", contacts=["<sip:1001@10.0.0.5:5060>;expires=3600"])))
    return first + later


def sc_cut_short():
    # The capture stops 1.5 s after the REGISTER (two retransmissions): too early to say
    # that nothing came back (issue 13, item 5).
    p = Phone()
    r1 = p.register()
    return flow(*[(t, "up", r1) for t in (0, 0.5, 1.5)])


# ---------------------------------------------------------------- text renderers

def ts(t, fmt="%Y/%m/%d"):
    import time
    whole = int(t)
    return time.strftime(fmt + " %H:%M:%S", time.gmtime(whole)) + ".%06d" % round((t - whole) * 1e6)


def addr(a):
    return f"{a[0]}:{a[1]}"


def render_plain(msgs, crlf=True):
    out = []
    for t, s, d, m in msgs:
        text = m.decode()
        if not crlf:
            text = text.replace("\r\n", "\n")
        out.append(text)
    return "\n".join(out) if not crlf else "\r\n".join(out)


def render_ngrep(msgs):
    out = ["interface: eth0 (10.0.0.0/255.255.255.0)", "filter: ( port 5060 ) and (ip || ip6)", "#"]
    for i, (t, s, d, m) in enumerate(msgs):
        out.append(f"U {ts(t)} {addr(s)} -> {addr(d)} #{i + 1}")
        for line in m.decode().split("\r\n")[:-1]:
            out.append(line + ".")
        out.append("")
        out.append("#")
    return "\n".join(out) + "\n"


def render_asterisk(msgs):
    out = []
    for t, s, d, m in msgs:
        stamp = ts(t, "%Y-%m-%d")[:23]
        if d == SERVER:
            out.append(f"[{stamp}] VERBOSE[2174] res_pjsip_logger.c: <--- Received SIP request ({len(m)} bytes) from UDP:{addr(s)} --->")
        else:
            kind = "request" if not m.startswith(b"SIP/2.0") else "response"
            out.append(f"[{stamp}] VERBOSE[2174] res_pjsip_logger.c: <--- Transmitting SIP {kind} ({len(m)} bytes) to UDP:{addr(d)} --->")
        out.append(m.decode().replace("\r\n", "\n").rstrip("\n"))
        out.append("")
    return "\n".join(out) + "\n"


def render_fslog(msgs):
    out = []
    for t, s, d, m in msgs:
        when = ts(t)[11:]
        if s == SERVER:
            out.append(f"send {len(m)} bytes to udp/[{d[0]}]:{d[1]} at {when}:")
        else:
            out.append(f"recv {len(m)} bytes from udp/[{s[0]}]:{s[1]} at {when}:")
        out.append("   " + "-" * 72)
        for line in m.decode().split("\r\n")[:-1]:
            out.append("   " + line if line else "")
        out.append("   " + "-" * 72)
    return "\n".join(out) + "\n"


def render_sngrep(msgs):
    out = ""
    for t, s, d, m in msgs:
        out += f"{ts(t)} {addr(s)} -> {addr(d)}\n{m.decode()}\n\n"
    return out


# ---------------------------------------------------------------- pcap renderers

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ipv4_packet(src, dst, proto, payload, ident=1, flags_frag=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_frag, 64, proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def udp_segment(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp_segment(sport, dport, seq, payload, flags=0x18):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload


def ipv6_packet(src, dst, nxt, payload, hop_by_hop=False):
    import ipaddress
    body = payload
    first = nxt
    if hop_by_hop:
        body = struct.pack("!BB6s", nxt, 0, b"\x01\x04\0\0\0\0") + payload  # PadN option
        first = 0
    return struct.pack("!IHBB16s16s", 0x60000000, len(body), first, 64, ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed) + body


def ether(ethertype, payload, vlan=None):
    h = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", ethertype) + payload


def sll(ethertype, payload):
    return struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, ethertype) + payload


def sll2(ethertype, payload):
    return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\0" * 8) + payload


def write_pcap(path, linktype, packets, nanos=False):
    with open(path, "wb") as f:
        magic = 0xa1b23c4d if nanos else 0xa1b2c3d4
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype))
        for t, data in packets:
            sec = int(t)
            frac = round((t - sec) * (1e9 if nanos else 1e6))
            f.write(struct.pack("<IIII", sec, frac, len(data), len(data)))
            f.write(data)


def write_pcapng(path, linktype, packets):
    def block(btype, body):
        pad = (4 - len(body) % 4) % 4
        body += b"\0" * pad
        total = 12 + len(body)
        return struct.pack("<II", btype, total) + body + struct.pack("<I", total)
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 65535)))
        for t, data in packets:
            us = round(t * 1e6)
            f.write(block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xffffffff, len(data), len(data)) + data))


def udp_v4(msgs, wrap=lambda et, p: ether(0x0800, p)):
    return [(t, wrap(0x0800, ipv4_packet(s[0], d[0], 17, udp_segment(s[1], d[1], m), ident=i + 1)))
            for i, (t, s, d, m) in enumerate(msgs)]


def out(name, text=None, data=None):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if text is not None:
        data = text.encode()
    with open(path, "wb") as f:
        f.write(data)


def main():
    # Text formats.
    out("text/registered_crlf.txt", render_plain(sc_registered(), crlf=True))
    out("text/auth_not_attempted_lf.txt", render_plain(sc_auth_not_attempted(), crlf=False))
    out("text/forbidden.txt", render_plain(sc_final(403, "Forbidden"), crlf=False))
    out("text/not_found.txt", render_plain(sc_final(404, "Not Found"), crlf=True))
    out("text/interval_too_brief.txt", render_plain(sc_interval_too_brief(), crlf=False))
    out("text/expires_raised.txt", render_plain(sc_expires_raised(), crlf=False))
    out("text/proxy_auth_failed.txt", render_plain(sc_proxy_auth_failed(), crlf=False))
    out("text/credential_mismatch_realm.txt", render_plain(sc_mismatch("realm"), crlf=False))
    out("text/credential_mismatch_nonce.txt", render_plain(sc_mismatch("nonce"), crlf=True))
    out("text/auth_user_extension.txt", render_plain(sc_extension(), crlf=False))
    out("text/trying_then_silence.txt", render_plain(sc_trying_then_silence(), crlf=False))
    out("text/password_check_wrong.txt", render_plain(sc_auth_failed("wrong-password"), crlf=False))
    out("text/password_check_right.txt", render_plain(sc_auth_failed(PASSWORD), crlf=False))
    out("ngrep/registered.ngrep", render_ngrep(sc_registered()))
    out("ngrep/no_response.ngrep", render_ngrep(sc_no_response()))
    out("ngrep/slow_answer.ngrep", render_ngrep(sc_slow_answer()))
    out("ngrep/trying_then_silence.ngrep", render_ngrep(sc_trying_then_silence_timed()))
    out("ngrep/nonce_changed.ngrep", render_ngrep(sc_nonce_changed()))
    out("ngrep/cut_short.ngrep", render_ngrep(sc_cut_short()))
    out("text/removal_nat.txt", render_plain(sc_removal_nat(), crlf=False))
    out("text/removal_star.txt", render_plain(sc_removal_star(), crlf=True))
    out("text/stale_refresh.txt", render_plain(sc_stale_refresh(), crlf=False))
    out("text/cut_short_paste.txt", render_plain(sc_cut_short()[:1], crlf=False))
    out("text/no_response_paste.txt", render_plain([sc_no_response()[0]] * 11, crlf=False))
    # Two files of one exchange: each is read on its own (issue 13, item 8).
    split = sc_slow_answer()
    out("text/split_challenge.txt", render_plain(split[:2], crlf=False))
    out("text/split_answer.txt", render_plain(split[2:], crlf=False))
    out("asterisk/auth_failed.log", render_asterisk(sc_auth_failed()))
    out("asterisk/server_error.log", render_asterisk(sc_final(500, "Server Internal Error")))
    out("freeswitch/not_found.log", render_fslog(sc_final(404, "Not Found")))
    out("freeswitch/nat_private_contact.log", render_fslog(sc_nat()))
    out("sngrep/service_unavailable.txt", render_sngrep(sc_final(503, "Service Unavailable", ["Retry-After: 120"])))
    out("sngrep/temporarily_unavailable.txt", render_sngrep(sc_final(480, "Temporarily Unavailable")))

    # Captures.
    write_pcap(os.path.join(HERE, "pcap/registered_ether.pcap"), 1, udp_v4(sc_registered()))
    write_pcap(os.path.join(HERE, "pcap/auth_failed_sll2.pcap"), 276, udp_v4(sc_auth_failed(), sll2))
    write_pcap(os.path.join(HERE, "pcap/forbidden_sll.pcap"), 113, udp_v4(sc_final(403, "Forbidden"), sll))
    write_pcap(os.path.join(HERE, "pcap/no_response_null.pcap"), 0,
               udp_v4(sc_no_response(), lambda et, p: struct.pack("<I", 2) + p))
    write_pcap(os.path.join(HERE, "pcap/nat_raw.pcap"), 101, udp_v4(sc_nat(), lambda et, p: p), nanos=True)
    write_pcap(os.path.join(HERE, "pcap/alg_vlan.pcap"), 1, udp_v4(sc_alg(), lambda et, p: ether(et, p, vlan=42)))
    write_pcapng(os.path.join(HERE, "pcap/registered.pcapng"), 1, udp_v4(sc_registered()))
    write_pcap(os.path.join(HERE, "pcap/two_attempts.pcap"), 1, udp_v4(sc_two_attempts()))
    write_pcap(os.path.join(HERE, "pcap/options_only.pcap"), 1, udp_v4(sc_options_only()))
    write_pcap(os.path.join(HERE, "pcap/slow_answer.pcap"), 1, udp_v4(sc_slow_answer()))
    write_pcap(os.path.join(HERE, "pcap/nat_no_received.pcap"), 1, udp_v4(sc_nat(received=False)))
    write_pcap(os.path.join(HERE, "pcap/cut_short.pcap"), 1, udp_v4(sc_cut_short()))

    # Content-Length that does not match the datagram (an ALG that rewrote without fixing it).
    msgs = sc_registered()
    t, s, d, m = msgs[3]
    msgs[3] = (t, s, d, m.replace(b"Content-Length: 0", b"Content-Length: 12"))
    write_pcap(os.path.join(HERE, "pcap/alg_content_length.pcap"), 1, udp_v4(msgs[:3] + [(t, s, d, msgs[3][3] + b"v=0\r\n")]))

    # IPv6 with a hop-by-hop header behind a VLAN tag, plus an IPv4 fragment to skip.
    v6 = []
    phone6, server6 = "2001:db8::5", "2001:db8::7"
    for i, (t, s, d, m) in enumerate(sc_registered()):
        m = m.replace(b"10.0.0.5:5060", b"[2001:db8::5]:5060")
        up = s == PHONE
        a, b = (phone6, server6) if up else (server6, phone6)
        v6.append((t, ether(0x86dd, ipv6_packet(a, b, 17, udp_segment(5060, 5060, m), hop_by_hop=True), vlan=7)))
    frag = ether(0x0800, ipv4_packet("10.0.0.5", "198.51.100.7", 17, b"\0" * 64, ident=99, flags_frag=0x2000))
    v6.insert(1, (T0 + 0.01, frag))
    write_pcap(os.path.join(HERE, "pcap/registered_ipv6_vlan.pcap"), 1, v6)

    # TCP on a non-standard port: the 401 split across two segments, a retransmitted
    # duplicate segment, two messages in one segment, and a later stream with a gap.
    tcp_msgs = sc_registered()
    pkts = []
    seq = {True: 1000, False: 5000}
    sport, dport = 40123, 15060
    def send(t, up, data, at=None):
        src, dst = ("10.0.0.5", "198.51.100.7") if up else ("198.51.100.7", "10.0.0.5")
        sp, dp = (sport, dport) if up else (dport, sport)
        pkts.append((t, ether(0x0800, ipv4_packet(src, dst, 6, tcp_segment(sp, dp, seq[up] if at is None else at, data)))))
        if at is None:
            seq[up] += len(data)
    pkts.append((T0 - 0.01, ether(0x0800, ipv4_packet("10.0.0.5", "198.51.100.7", 6, tcp_segment(sport, dport, 999, b"", 0x02)))))
    pkts.append((T0 - 0.005, ether(0x0800, ipv4_packet("198.51.100.7", "10.0.0.5", 6, tcp_segment(dport, sport, 4999, b"", 0x12)))))
    def fix(m):
        return m.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP") if isinstance(m, bytes) else m.replace("SIP/2.0/UDP", "SIP/2.0/TCP")
    (t0, _, _, m0), (t1, _, _, m1), (t2, _, _, m2), (t3, _, _, m3) = tcp_msgs
    send(t0, True, fix(m0))
    half = len(m1) // 2
    first = seq[False]
    send(t1, False, fix(m1)[:half])
    send(t1 + 0.001, False, fix(m1)[:half], at=first)  # retransmission of the same bytes
    send(t1 + 0.002, False, fix(m1)[half:])
    send(t2, True, fix(m2))
    send(t3, False, fix(m3) + b"\r\n\r\n")  # plus a keep-alive
    write_pcap(os.path.join(HERE, "pcap/registered_tcp.pcap"), 1, pkts)

    # A stream with a gap: after a whole REGISTER, a segment is lost (the first 40 bytes
    # of the next REGISTER); the rest of that one is dropped, the third one is read.
    pkts = []
    seq = {True: 1000, False: 5000}
    p = Phone()
    r1, r2, r3 = fix(p.register()).encode(), fix(p.register()).encode(), fix(p.register()).encode()
    send(T0, True, r1)
    seq[True] += 40  # bytes never captured
    send(T0 + 0.5, True, r2[40:])
    send(T0 + 1.0, True, r3)
    send(T0 + 1.02, False, fix(respond(r3.decode(), 401, "Unauthorized", [challenge()["header"]])).encode())
    write_pcap(os.path.join(HERE, "pcap/tcp_gap.pcap"), 1, pkts)

    # A registration over UDP among TCP connections that are not SIP (HTTP, TLS, FTP), each
    # seen from its SYN: skipped and counted, without a warning each (issue 13, item 10).
    pkts = [(t, p) for t, p in udp_v4(sc_registered())]
    def conn(t, cport, sport, client_data, server_data):
        c, s_ = "10.0.0.5", "198.51.100.80"
        seg = lambda src, dst, sp, dp, seq, data, flags: ether(0x0800, ipv4_packet(src, dst, 6, tcp_segment(sp, dp, seq, data, flags)))
        out_ = [(t, seg(c, s_, cport, sport, 100, b"", 0x02)), (t + 0.001, seg(s_, c, sport, cport, 900, b"", 0x12))]
        if server_data:
            out_.append((t + 0.002, seg(s_, c, sport, cport, 901, server_data, 0x18)))
        if client_data:
            out_.append((t + 0.003, seg(c, s_, cport, sport, 101, client_data, 0x18)))
        return out_
    pkts += conn(T0 + 1, 50001, 80, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
                 b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    pkts += conn(T0 + 2, 50002, 443, b"\x16\x03\x01\x00\x2a\x01\x00\x00\x26\x03\x03" + b"\x00" * 38, b"")
    pkts += conn(T0 + 3, 50003, 21, b"USER anonymous\r\n", b"220 FTP server ready\r\n")
    pkts.sort(key=lambda x: x[0])
    write_pcap(os.path.join(HERE, "pcap/non_sip_tcp.pcap"), 1, pkts)

    # No SIP at all: a DNS query.
    dns = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00\x00\x01\x00\x01"
    write_pcap(os.path.join(HERE, "bad/no_sip.pcap"), 1,
               [(T0, ether(0x0800, ipv4_packet("10.0.0.5", "10.0.0.1", 17, udp_segment(5353, 53, dns))))])
    # Truncated: the registered capture cut in the middle of its third packet.
    with open(os.path.join(HERE, "pcap/registered_ether.pcap"), "rb") as f:
        whole = f.read()
    cut = 24 + 2 * 16 + sum(len(p) for _, p in udp_v4(sc_registered())[:2]) + 16 + 100
    out("bad/truncated.pcap", data=whole[:cut])
    # Binary noise (deterministic) and an empty file.
    noise = bytearray()
    x = 12345
    for _ in range(4096):
        x = (1103515245 * x + 12345) & 0x7fffffff
        noise.append((x >> 16) & 0xff)
    out("bad/noise.bin", data=bytes(noise))
    out("bad/empty.txt", data=b"")
    out("bad/options_only.txt", render_plain(sc_options_only(), crlf=True))


if __name__ == "__main__":
    main()
