#!/usr/bin/env python3
"""VRRP failover lab: keepalivedd and keepalived 2.2 in Linux network namespaces.

One lab is a bridge namespace and N node namespaces plus a client, all named
PREFIX-*, with addresses in 198.18.60.0/24 only:

    PREFIX-n1 (eth1 198.18.60.1, 02:00:c6:12:3c:01) --+
    PREFIX-n2 (eth1 198.18.60.2, 02:00:c6:12:3c:02) --+-- br0 in PREFIX-br
    PREFIX-n3 (eth1 198.18.60.3)  (3-node labs only) --+
    PREFIX-cl (eth1 198.18.60.100, arp_accept=1)     --+

Each node runs a VRRP daemon (real `keepalived` or a keepalivedd binary) on the
seed's configuration (vrrp-config/tests/data), with 192.168.22.x moved to
198.18.60.x and `killall -0 haproxy` replaced by chk_haproxy.sh, which tests a
state file the lab controls. Each node also runs a TCP server bound to the VIPs
with IP_FREEBIND that answers its node name. The client namespace runs an agent
that connects to every VIP ten times a second and records, from eth1, every
VRRP advert and gratuitous ARP, all stamped with CLOCK_REALTIME like the actions.

Commands:
    check SCENARIO [--impl N=IMPL ...]   a pass/fail scenario; exit 0 pass, 1 fail, 77 skipped
    bench [--trials N] [--keepalivedd PATH] [--out FILE]   timing table, keepalivedd vs keepalived
    serve | agent | probe                internal helpers run inside a namespace

IMPL is `keepalived` or the path of a keepalivedd binary. Every wait is bounded;
every process started here is stopped by PID and every namespace deleted on exit,
failures included. Logs stay in the lab directory when a check fails (or KEEP=1).
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NET = "198.18.60"
VIP1 = f"{NET}.249"
VIP2 = f"{NET}.147"
CLIENT = f"{NET}.100"
PORT = 8080
REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "vrrp-config" / "tests" / "data"
SKIP = 77
# bound on any single convergence wait: 3 x advert_int + skew + script interval, doubled
BOUND = 15.0
IP_FREEBIND = 15


class LabFailure(Exception):
    """A check did not hold; the message says which and what was seen."""


def log(msg):
    print(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {msg}", flush=True)


def run(*argv, check=True):
    out = subprocess.run(argv, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise LabFailure(f"{' '.join(argv)}: {out.stderr.strip()}")
    return out.stdout


def wait_until(pred, bound=BOUND, step=0.01):
    """Polls pred every `step` seconds for at most `bound`; returns the time it held, or None."""
    end = time.time() + bound
    while True:
        if pred():
            return time.time()
        if time.time() > end:
            return None
        time.sleep(step)


# ---------------------------------------------------------------- helpers run in namespaces

def cmd_serve(a):
    """TCP server on each VIP (freebind: the VIP need not be present yet); answers the node name."""
    socks = []
    for vip in a.vip:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        s.bind((vip, a.port))
        s.listen(64)
        s.settimeout(0.2)
        socks.append(s)
    end = time.time() + a.seconds
    while time.time() < end:
        for s in socks:
            try:
                c, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            with c:
                try:
                    c.sendall(f"{a.name}\n".encode())
                except OSError:
                    pass


def cmd_agent(a):
    """Client side: poll every VIP over TCP and record adverts and GARPs seen on the wire."""
    lock = threading.Lock()

    def emit(line):
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    end = time.time() + a.seconds

    def poll():
        while time.time() < end:
            for vip in a.vip:
                t = time.time()
                who = "-"
                try:
                    with socket.create_connection((vip, a.port), timeout=0.3) as c:
                        c.settimeout(0.3)
                        who = c.recv(64).decode(errors="replace").strip() or "-"
                except OSError:
                    pass
                emit(f"{t:.6f} serve {vip} {who}")
            time.sleep(0.1)

    threading.Thread(target=poll, daemon=True).start()
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    raw.bind((a.dev, 0))
    raw.settimeout(0.5)
    while time.time() < end:
        try:
            frame, addr = raw.recvfrom(2048)
        except socket.timeout:
            continue
        t = time.time()
        if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14:
            continue
        src_mac = frame[6:12].hex(":")
        ethertype = struct.unpack("!H", frame[12:14])[0]
        body = frame[14:]
        if ethertype == 0x0800 and len(body) >= 28 and body[9] == 112:
            ihl = (body[0] & 0x0F) * 4
            v = body[ihl:]
            if len(v) >= 8:
                src = socket.inet_ntoa(body[12:16])
                emit(f"{t:.6f} advert {src} {v[1]} {v[2]} {body[8]} {src_mac}")
        elif ethertype == 0x0806 and len(body) >= 28:
            op = struct.unpack("!H", body[6:8])[0]
            spa, tpa = socket.inet_ntoa(body[14:18]), socket.inet_ntoa(body[24:28])
            if spa == tpa:
                emit(f"{t:.6f} garp {spa} {op} {src_mac}")


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def cmd_probe(a):
    """Sends one crafted VRRPv2 advert (a malformed variant or a good one) to 224.0.0.18."""
    vips, auth_type, auth, adv_int, ttl, prio = [a.vip], 1, a.auth.encode(), 1, 255, a.prio
    case = a.case
    if case == "ttl64":
        ttl = 64
    elif case == "badauth":
        auth = b"22222"
    elif case == "int2":
        adv_int = 2
    elif case == "wrongvip":
        vips = [f"{NET}.248"]
    elif case == "noauth":
        auth_type, auth = 0, b""
    elif case == "prio0":
        prio = 0
    elif case == "v3":
        pass
    elif case not in ("good", "badsum", "short"):
        raise SystemExit(f"unknown probe case {case}")
    if case == "v3":
        # VRRPv3 header with a v2 peer's vrid: keepalived's v2 instances drop it by version
        head = struct.pack("!BBBBH", 0x31, a.vrid, prio, 1, 100)
        msg = head + struct.pack("!H", 0) + socket.inet_aton(a.vip)
    else:
        head = struct.pack("!BBBBBB", 0x21, a.vrid, prio, len(vips), auth_type, adv_int)
        body = b"".join(socket.inet_aton(v) for v in vips) + auth.ljust(8, b"\0")[:8]
        c = checksum(head + b"\0\0" + body)
        if case == "badsum":
            c ^= 0x0F0F
        msg = head + struct.pack("!H", c) + body
        if case == "short":
            msg = msg[:6]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(msg), 0, 0, ttl, 112, 0,
                      socket.inet_aton(a.src), socket.inet_aton("224.0.0.18"))
    iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
    s.sendto(iph + msg, ("224.0.0.18", 0))


# ---------------------------------------------------------------- the lab

def ns_inode(name):
    return os.stat(f"/run/netns/{name}").st_ino


def in_netns(pid, inode):
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == inode
    except OSError:
        return False


class Daemon:
    """One VRRP daemon on one node: real keepalived (parent + VRRP child) or keepalivedd."""

    def __init__(self, node, impl):
        self.node, self.impl, self.proc = node, impl, None

    @property
    def real(self):
        return self.impl == "keepalived"

    def argv(self):
        n, conf = self.node, str(self.node.conf)
        if self.real:
            # -P vrrp only, -G no syslog (there is no /dev/log here)
            return ["keepalived", "-P", "-n", "-l", "-D", "-G", "-f", conf,
                    "-p", str(n.pidfile), "-r", str(n.vrrp_pidfile)]
        return [self.impl, "-n", "-l", "-D", "-f", conf, "-p", str(n.pidfile),
                "-r", str(n.vrrp_pidfile)]

    def start(self):
        n = self.node
        for f in (n.pidfile, n.vrrp_pidfile):
            f.unlink(missing_ok=True)
        with open(n.log, "a") as out:
            out.write(f"==== {time.time():.6f} start {' '.join(self.argv())}\n")
            out.flush()
            self.proc = subprocess.Popen(["ip", "netns", "exec", n.ns, *self.argv()],
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        n.lab.procs.append(self.proc)
        # the pidfiles appear once the daemon runs; keepalived's crash needs both pids
        want = n.vrrp_pidfile if self.real else n.pidfile
        if wait_until(lambda: want.exists() and want.read_text().strip() != "", 5) is None:
            if self.proc.poll() is not None:
                raise LabFailure(f"{n.name}: {self.impl} exited at start with {self.proc.returncode}")
            log(f"{n.name}: no {want.name} after 5 s")

    def pids(self):
        pids = set()
        if self.proc and self.proc.poll() is None:
            pids.add(self.proc.pid)
        inode = ns_inode(self.node.ns)
        for f in (self.node.pidfile, self.node.vrrp_pidfile):
            try:
                p = int(f.read_text().strip())
            except (OSError, ValueError):
                continue
            if in_netns(p, inode):   # never signal a process outside our namespace
                pids.add(p)
        return pids

    def crash(self):
        """SIGSTOP then SIGKILL every process (no goodbye advert); returns the action time."""
        pids = self.pids()
        t0 = time.time()
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
        self.reap()
        return t0

    def stop(self):
        """Sends SIGTERM (a graceful stop); returns the action time. See wait_exit."""
        if not self.proc or self.proc.poll() is not None:
            raise LabFailure(f"{self.node.name}: daemon not running at stop")
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        return t0

    def wait_exit(self):
        """After stop: fails unless every process of the daemon is gone within 5 s."""
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.crash()
            raise LabFailure(f"{self.node.name}: {self.impl} still running 5 s after SIGTERM")
        rest = self.pids()
        if rest:
            self.crash()
            raise LabFailure(f"{self.node.name}: processes {sorted(rest)} left after SIGTERM")

    def reap(self):
        if self.proc:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Node:
    def __init__(self, lab, i, impl):
        self.lab, self.i = lab, i
        self.name = f"n{i}"
        self.ns = lab.ns(self.name)
        self.addr = f"{NET}.{i}"
        self.mac = f"02:00:c6:12:3c:{i:02x}"
        d = lab.dir
        self.conf = d / f"{self.name}.conf"
        self.pidfile = d / f"{self.name}.pid"
        self.vrrp_pidfile = d / f"{self.name}-vrrp.pid"
        self.state = d / f"{self.name}.up"       # chk_haproxy succeeds while this exists
        self.ran = d / f"{self.name}.ran"        # touched by every script run
        self.log = d / f"{self.name}.log"
        self.daemon = Daemon(self, impl)

    def vips(self):
        out = run("ip", "-n", self.ns, "-o", "-4", "addr", "show", "dev", "eth1", check=False)
        return {w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]} - {self.addr}

    def has(self, vip):
        return vip in self.vips()

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def seed_config(name, node, prio=None):
    text = (SEEDS / name).read_text()
    text = text.replace("192.168.22.", f"{NET}.")
    text = text.replace('"killall -0 haproxy"',
                        f'"{node.lab.dir}/chk_haproxy.sh {node.state} {node.ran}"')
    if prio is not None:
        text = text.replace("priority 99", f"priority {prio}")
    return text


class Lab:
    """The namespaces, daemons and helper processes of one topology."""

    def __init__(self, prefix, impls, variant="seed", root=None):
        self.prefix, self.variant = prefix, variant
        self.dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root))
        os.chmod(self.dir, 0o755)    # the daemons run scripts from here
        self.procs, self.namespaces = [], []
        self.nodes = [Node(self, i + 1, impl) for i, impl in enumerate(impls)]
        self.client = self.ns("cl")
        self.vips = [VIP1, VIP2] if variant == "mutual" else [VIP1]
        self.events, self.events_lock = [], threading.Lock()
        self.agent = None

    def ns(self, x):
        return f"{self.prefix}-{x}"

    def node(self, i):
        return self.nodes[i - 1]

    # ---- building
    def setup(self):
        br = self.ns("br")
        self._add_ns(br)
        run("ip", "-n", br, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", br, "link", "set", "br0", "type", "bridge", "stp_state", "0",
            "forward_delay", "0")
        run("ip", "-n", br, "link", "set", "br0", "up")
        ends = [(n.ns, f"p{n.i}", n.addr, n.mac) for n in self.nodes]
        ends.append((self.client, "pcl", CLIENT, "02:00:c6:12:3c:64"))
        for ns, port, addr, mac in ends:
            self._add_ns(ns)
            run("ip", "-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth1",
                "netns", ns)
            run("ip", "-n", br, "link", "set", port, "master", "br0")
            run("ip", "-n", br, "link", "set", port, "up")
            run("ip", "-n", ns, "link", "set", "eth1", "address", mac)
            run("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth1")
            run("ip", "-n", ns, "link", "set", "eth1", "up")
            # no ARP flux: only the VIP's holder answers for it
            run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1",
                "net.ipv4.conf.all.arp_announce=2")
        run("ip", "netns", "exec", self.client, "sysctl", "-qw",
            "net.ipv4.conf.all.arp_accept=1", "net.ipv4.conf.eth1.arp_accept=1")
        chk = self.dir / "chk_haproxy.sh"
        chk.write_text("#!/bin/sh\n# stands in for `killall -0 haproxy`: $1 is the state file\n"
                       "touch \"$2\"\n[ -e \"$1\" ]\n")
        chk.chmod(0o755)
        for n in self.nodes:
            n.state.touch()
            if self.variant == "mutual":
                seed = "keepalived-mutual-manager.conf" if n.i == 1 else "keepalived-mutual-backup.conf"
            else:
                seed = "keepalived-manager.conf" if n.i == 1 else "keepalived-backup.conf"
            n.conf.write_text(seed_config(seed, n, prio=None if n.i <= 2 else 101 - n.i))
        self.start_helpers()

    def _add_ns(self, name):
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")

    def _spawn(self, ns, *args):
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, __file__, *args],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        self.procs.append(p)
        return p

    def start_helpers(self):
        life = "3600"
        for n in self.nodes:
            vip_args = [x for v in self.vips for x in ("--vip", v)]
            self._spawn(n.ns, "serve", "--name", n.name, "--port", str(PORT), "--seconds", life,
                        *vip_args)
        vip_args = [x for v in self.vips for x in ("--vip", v)]
        self.agent = self._spawn(self.client, "agent", "--port", str(PORT), "--dev", "eth1",
                                 "--seconds", life, *vip_args)
        threading.Thread(target=self._read_agent, daemon=True).start()

    def _read_agent(self):
        for line in self.agent.stdout:
            w = line.split()
            if len(w) < 3:
                continue
            try:
                t = float(w[0])
            except ValueError:
                continue
            with self.events_lock:
                self.events.append((t, w[1], w[2:]))

    def start(self):
        for n in self.nodes:
            n.daemon.start()

    def teardown(self, keep_logs):
        for n in self.nodes:
            if n.daemon.alive() or n.daemon.pids():
                n.daemon.crash()
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for ns in reversed(self.namespaces):
            # anything still inside one of our namespaces is ours (the names are unique)
            for pid in run("ip", "netns", "pids", ns, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run("ip", "netns", "del", ns, check=False)
        if keep_logs:
            with self.events_lock, open(self.dir / "events.log", "w") as f:
                for t, kind, fields in self.events:
                    f.write(f"{t:.6f} {kind} {' '.join(fields)}\n")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- observing
    def holders(self, vip):
        return [n.name for n in self.nodes if n.has(vip)]

    def wait_holder(self, vip, node, bound=BOUND):
        """Waits until `node` holds `vip`; returns the time it was seen."""
        t = wait_until(lambda: node.has(vip), bound)
        if t is None:
            raise LabFailure(f"{vip} not on {node.name} after {bound} s; holders {self.holders(vip)}")
        return t

    def wait_released(self, vip, node, bound=BOUND):
        t = wait_until(lambda: not node.has(vip), bound)
        if t is None:
            raise LabFailure(f"{node.name} still holds {vip} after {bound} s")
        return t

    def wait_sole(self, vip, node, bound=BOUND):
        """`node` holds `vip` and no other live node does."""
        self.wait_holder(vip, node, bound)
        for other in self.nodes:
            if other is not node and other.daemon.alive():
                self.wait_released(vip, other, bound)

    def events_since(self, kind, t0):
        with self.events_lock:
            return [(t, f) for t, k, f in self.events if k == kind and t >= t0]

    def neigh_mac(self, vip):
        out = run("ip", "-n", self.client, "neigh", "show", vip, "dev", "eth1", check=False).split()
        return out[out.index("lladdr") + 1] if "lladdr" in out else None

    def wait_client(self, vip, node, since, bound=BOUND):
        """The client reaches `node`'s server on `vip` after `since`, and its ARP cache
        maps `vip` to `node`'s MAC."""
        def served():
            return any(f[0] == vip and f[1] == node.name for t, f in self.events_since("serve", since))
        if wait_until(served, bound, 0.05) is None:
            seen = [f[1] for _, f in self.events_since("serve", since) if f[0] == vip][-5:]
            raise LabFailure(f"client never reached {node.name} on {vip} (last answers {seen})")
        if wait_until(lambda: self.neigh_mac(vip) == node.mac, bound, 0.05) is None:
            raise LabFailure(f"client neighbour entry for {vip} is {self.neigh_mac(vip)}, "
                             f"want {node.name}'s {node.mac}")
        garps = [f for _, f in self.events_since("garp", since) if f[0] == vip and f[2] == node.mac]
        if not garps:
            raise LabFailure(f"no gratuitous ARP for {vip} from {node.name} since the change")

    def after_advert(self, node, vrid, delay=0.05):
        """Waits for `node`'s next advert for `vrid`, then `delay` s: fixes the phase of an action."""
        t0 = time.time()
        def seen():
            return any(f[0] == node.addr and f[1] == str(vrid) for _, f in self.events_since("advert", t0))
        if wait_until(seen, 3) is None:
            raise LabFailure(f"no advert from {node.name} for vrid {vrid} within 3 s")
        time.sleep(delay)

    def after_script_run(self, node, delay=0.1):
        before = node.ran.stat().st_mtime if node.ran.exists() else 0
        if wait_until(lambda: node.ran.exists() and node.ran.stat().st_mtime > before, 5) is None:
            raise LabFailure(f"{node.name}: chk_haproxy.sh did not run within 5 s")
        time.sleep(delay)

    def first_advert(self, src_node, vrid, since):
        for t, f in self.events_since("advert", since):
            if f[0] == src_node.addr and f[1] == str(vrid) and f[2] != "0":
                return t
        return None


# ---------------------------------------------------------------- scenarios

def settle(lab, vip=VIP1, master=None):
    """The master holds the VIP alone and the scripts' weights are applied everywhere."""
    master = master or lab.node(1)
    lab.wait_sole(vip, master, 25)
    time.sleep(4.2)   # two script intervals
    if lab.holders(vip) != [master.name]:
        raise LabFailure(f"{vip} flapped while settling: holders {lab.holders(vip)}")


def step(name, t0, t1):
    log(f"  {name}: {1000 * (t1 - t0):.0f} ms")
    return 1000 * (t1 - t0)


def restart(lab, node, vips):
    """Starts `node`'s daemon again after a crash. A SIGKILL leaves the VIPs configured
    (nobody removes them), so the daemon must first remove those stale VIPs; returns the
    start time."""
    stale = [v for v in vips if node.has(v)]
    t0 = time.time()
    node.daemon.start()
    for v in stale:
        if wait_until(lambda: not node.has(v), 5) is None:
            raise LabFailure(f"{node.name} kept the stale {v} left by the crash after its restart")
    return t0


def crash_and_back(lab, n1, n2, vip=VIP1):
    t0 = n1.daemon.crash()
    step(f"crash {n1.name}: {n2.name} holds {vip}", t0, lab.wait_holder(vip, n2))
    lab.wait_client(vip, n2, t0)
    time.sleep(1)
    t0 = restart(lab, n1, [vip])
    step(f"restart {n1.name}: preempts back", t0, lab.wait_holder(vip, n1))
    lab.wait_released(vip, n2)
    lab.wait_client(vip, n1, t0)


def stop_and_back(lab, n1, n2, vip=VIP1):
    t0 = n1.daemon.stop()
    step(f"SIGTERM {n1.name}: {n2.name} holds {vip}", t0, lab.wait_holder(vip, n2))
    n1.daemon.wait_exit()
    if n1.has(vip):
        raise LabFailure(f"{n1.name} kept {vip} after a graceful stop")
    lab.wait_client(vip, n2, t0)
    time.sleep(1)
    t0 = time.time()
    n1.daemon.start()
    step(f"restart {n1.name}: preempts back", t0, lab.wait_holder(vip, n1))
    lab.wait_released(vip, n2)
    lab.wait_client(vip, n1, t0)


def fault_and_back(lab, n1, n2, what, fail, recover, vip=VIP1):
    """`fail()` on the master moves the VIP to the backup (the master lets go of it);
    `recover()` makes the master preempt back."""
    t0 = time.time()
    fail()
    step(f"{what} fails on {n1.name}: {n2.name} holds {vip}", t0, lab.wait_holder(vip, n2))
    lab.wait_released(vip, n1)
    lab.wait_client(vip, n2, t0)
    time.sleep(2)
    t0 = time.time()
    recover()
    step(f"{what} recovers on {n1.name}: preempts back", t0, lab.wait_holder(vip, n1))
    lab.wait_released(vip, n2)
    lab.wait_client(vip, n1, t0)


def link(node, updown):
    run("ip", "-n", node.ns, "link", "set", "eth1", updown)


def steady_pair(lab):
    """n1 masters VIP1 alone and the client reaches it there; returns (n1, n2)."""
    n1, n2 = lab.node(1), lab.node(2)
    settle(lab)
    lab.wait_client(VIP1, n1, 0)
    return n1, n2


def scen_seed(lab):
    """The seed pair: crash, script failure, link down and graceful stop each move the VIP."""
    n1, n2 = steady_pair(lab)
    crash_and_back(lab, n1, n2)
    settle(lab)
    fault_and_back(lab, n1, n2, "chk_haproxy", n1.state.unlink, n1.state.touch)
    settle(lab)
    # FAULT removes the VIPs on the master; its link coming back makes it preempt
    fault_and_back(lab, n1, n2, "eth1", lambda: link(n1, "down"), lambda: link(n1, "up"))
    settle(lab)
    stop_and_back(lab, n1, n2)


def scen_mutual(lab):
    """Each node masters one VIP; one node dies and the other holds both, then they split again."""
    n1, n2 = lab.node(1), lab.node(2)
    lab.wait_sole(VIP1, n1, 25)
    lab.wait_sole(VIP2, n2, 25)
    time.sleep(4.2)
    lab.wait_client(VIP1, n1, 0)
    lab.wait_client(VIP2, n2, 0)
    t0 = n1.daemon.crash()
    step("crash n1: n2 holds both VIPs", t0, lab.wait_holder(VIP1, n2))
    if not n2.has(VIP2):
        raise LabFailure("n2 lost VIP2 while taking VIP1")
    lab.wait_client(VIP1, n2, t0)
    time.sleep(1)
    t0 = restart(lab, n1, [VIP1, VIP2])
    step("restart n1: VIP1 back on n1", t0, lab.wait_holder(VIP1, n1))
    lab.wait_released(VIP1, n2)
    lab.wait_client(VIP1, n1, t0)
    time.sleep(2)
    if lab.holders(VIP2) != ["n2"]:
        raise LabFailure(f"VIP2 holders after n1's return: {lab.holders(VIP2)}")
    t0 = n2.daemon.crash()
    step("crash n2: n1 holds both VIPs", t0, lab.wait_holder(VIP2, n1))
    if not n1.has(VIP1):
        raise LabFailure("n1 lost VIP1 while taking VIP2")
    lab.wait_client(VIP2, n1, t0)


def scen_interop(lab):
    """Mixed pair: the backup takes over from the other implementation and hands back."""
    n1, n2 = steady_pair(lab)
    crash_and_back(lab, n1, n2)
    settle(lab)
    stop_and_back(lab, n1, n2)
    settle(lab)
    # n1's adverts keep n2 quiet: only n1 adverts for vrid 77 over a few seconds
    t0 = time.time()
    time.sleep(3)
    srcs = {f[0] for _, f in lab.events_since("advert", t0) if f[1] == "77"}
    if srcs != {n1.addr}:
        raise LabFailure(f"adverts for vrid 77 came from {sorted(srcs)}, want only {n1.addr}")


# what keepalived 2.2 logs for each malformed advert (MEASURED.md); each one is dropped
MALFORMED = {
    "ttl64": "invalid TTL/HL. Received 64 and expect 255",
    "badauth": "received an invalid passwd",
    "badsum": "Invalid VRRPv2 checksum",
    "int2": "advertisement interval mismatch mine=1 sec rcv'd=2 sec",
    "wrongvip": "ip address associated with VRID 77 not present in MASTER advert",
    "noauth": "received a 0 auth, expecting 1",
}
# the probes sent beyond lab.sh's, with keepalived 2.2's lines for them
MALFORMED_EXTRA = {
    "short": "IPv4 VRRP packet too short - ",
    "v3": "wrong version. Received 3 and expect 2",
}


def probe(lab, case, prio=254):
    run("ip", "netns", "exec", lab.client, sys.executable, __file__, "probe", case,
        "--src", CLIENT, "--vrid", "77", "--prio", str(prio), "--vip", VIP1, "--dev", "eth1")


def scen_malformed(lab):
    """Malformed adverts with priority 254 are logged and dropped by both nodes; a good one is not."""
    n1, n2 = lab.node(1), lab.node(2)
    settle(lab)
    marks = {n.name: len(n.log_text()) for n in lab.nodes}
    t0 = time.time()
    for case in [*MALFORMED, *MALFORMED_EXTRA]:
        # one probe per advert interval: keepalived's master restarts its advert timer on
        # every packet it receives, even a rejected one, so a faster burst would silence
        # it for longer than the backup's master-down interval
        lab.after_advert(n1, 77)
        probe(lab, case)
    time.sleep(4)   # longer than the master-down interval: an accepted advert would show
    if lab.holders(VIP1) != ["n1"]:
        raise LabFailure(f"state changed after malformed adverts: holders {lab.holders(VIP1)}")
    prios = {f[2] for _, f in lab.events_since("advert", t0) if f[0] == n1.addr}
    if prios != {"102"}:
        raise LabFailure(f"n1 adverts after the probes carry priorities {sorted(prios)}, want 102")
    if any(f[0] == n2.addr for _, f in lab.events_since("advert", t0)):
        raise LabFailure("n2 sent adverts after the malformed probes")
    for n in lab.nodes:
        new = n.log_text()[marks[n.name]:]
        if "Entering" in new:
            raise LabFailure(f"{n.name} changed state: {new}")
        for case, text in {**MALFORMED, **MALFORMED_EXTRA}.items():
            if text not in new:
                raise LabFailure(f"{n.name} did not log the {case} advert ('{text}'); it logged:\n{new}")
    # control: the same probe, well formed, must make the master yield (so the probes arrive)
    t0 = time.time()
    probe(lab, "good")
    lab.wait_released(VIP1, n1, 3)
    log("  good advert with priority 254: n1 yielded, as it must")
    lab.wait_sole(VIP1, n1)


SCENARIOS = {
    "seed": ("seed", 2, scen_seed),
    "mutual": ("mutual", 2, scen_mutual),
    "interop": ("seed", 2, scen_interop),
    "malformed": ("seed", 2, scen_malformed),
}


def skip_reason(impls):
    if os.geteuid() != 0:
        return "not running as root (network namespaces need it)"
    if shutil.which("ip") is None:
        return "iproute2 `ip` not found"
    if shutil.which("keepalived") is None:
        return "keepalived is not installed"
    for impl in impls:
        if impl != "keepalived" and not os.access(impl, os.X_OK):
            return f"{impl} is not executable"
    return None


def parse_impls(specs, count):
    impls = ["keepalived"] * count
    for s in specs or []:
        k, _, v = s.partition("=")
        if not k.startswith("n") or not k[1:].isdigit() or not (1 <= int(k[1:]) <= count) or not v:
            raise SystemExit(f"bad --impl {s!r}: want nI=keepalived|PATH")
        impls[int(k[1:]) - 1] = v
    return impls


def cmd_check(a):
    variant, count, fn = SCENARIOS[a.scenario]
    impls = parse_impls(a.impl, count)
    why = skip_reason(impls)
    if why:
        print(f"skipped: {why}")
        return SKIP
    prefix = f"kdt-{os.getpid()}"
    lab = Lab(prefix, impls, variant)
    log(f"{a.scenario}: {', '.join(f'n{i + 1}={v}' for i, v in enumerate(impls))} in {lab.dir}")
    ok = False
    try:
        lab.setup()
        lab.start()
        fn(lab)
        ok = True
        log(f"{a.scenario}: pass")
    except LabFailure as e:
        log(f"{a.scenario}: FAIL: {e}")
        for n in lab.nodes:
            tail = n.log_text().splitlines()[-40:]
            print(f"---- {n.log} (last {len(tail)} lines)\n" + "\n".join(tail))
    finally:
        keep = not ok or os.environ.get("KEEP") == "1"
        lab.teardown(keep)
        if keep:
            log(f"logs kept in {lab.dir}")
    return 0 if ok else 1


# ---------------------------------------------------------------- bench

def measure(lab, out, label, t0, vip, node, vrid=77):
    """Records, for the action at `t0`, when `node` was seen holding `vip` (polled) and
    when its first advert as the new master reached the client (wire)."""
    polled = step(label, t0, lab.wait_holder(vip, node))
    t = wait_until(lambda: lab.first_advert(node, vrid, t0) is not None, 2)
    wire = 1000 * (lab.first_advert(node, vrid, t0) - t0) if t is not None else None
    out.append((label, polled, wire))


def bench_trial_seed(lab, out):
    """One trial of each 2-node scenario; appends (scenario, ms) to out."""
    n1, n2 = lab.node(1), lab.node(2)
    settle(lab)
    lab.after_advert(n1, 77)
    t0 = n1.daemon.crash()
    measure(lab, out, "crash", t0, VIP1, n2)
    time.sleep(1)
    restart(lab, n1, [VIP1])
    lab.wait_sole(VIP1, n1)
    settle(lab)
    lab.after_advert(n1, 77)
    t0 = n1.daemon.stop()
    measure(lab, out, "graceful stop", t0, VIP1, n2)
    n1.daemon.wait_exit()
    time.sleep(1)
    n1.daemon.start()
    lab.wait_sole(VIP1, n1)
    settle(lab)
    lab.after_script_run(n1)
    t0 = time.time()
    n1.state.unlink()
    measure(lab, out, "script failure", t0, VIP1, n2)
    lab.wait_released(VIP1, n1)
    time.sleep(2)
    lab.after_script_run(n1)
    t0 = time.time()
    n1.state.touch()
    measure(lab, out, "script recovery", t0, VIP1, n1)
    lab.wait_released(VIP1, n2)
    settle(lab)
    lab.after_advert(n1, 77)
    t0 = time.time()
    link(n1, "down")
    measure(lab, out, "link down", t0, VIP1, n2)
    time.sleep(2)
    lab.after_advert(n2, 77)
    t0 = time.time()
    link(n1, "up")
    measure(lab, out, "link up", t0, VIP1, n1)
    lab.wait_released(VIP1, n2)


def bench_trial_three(lab, out):
    n1, n2, n3 = lab.node(1), lab.node(2), lab.node(3)
    settle(lab)
    lab.after_advert(n1, 77)
    t0 = n1.daemon.crash()
    measure(lab, out, "3-node crash", t0, VIP1, n2)
    time.sleep(2)
    if n3.has(VIP1):
        raise LabFailure("3-node: n3 took the VIP too")
    restart(lab, n1, [VIP1])
    lab.wait_sole(VIP1, n1)


def bench_trial_mutual(lab, out):
    n1, n2 = lab.node(1), lab.node(2)
    lab.wait_sole(VIP1, n1, 25)
    lab.wait_sole(VIP2, n2, 25)
    time.sleep(4.2)
    lab.after_advert(n1, 100)
    t0 = n1.daemon.crash()
    measure(lab, out, "mutual crash", t0, VIP1, n2, vrid=100)
    time.sleep(1)
    restart(lab, n1, [VIP1, VIP2])
    lab.wait_sole(VIP1, n1)


BENCH_ORDER = ["crash", "graceful stop", "script failure", "script recovery", "link down",
               "link up", "3-node crash", "mutual crash"]


def cmd_bench(a):
    impls = {"keepalived": "keepalived", "keepalivedd": a.keepalivedd}
    why = skip_reason(list(impls.values()))
    if why:
        print(f"skipped: {why}")
        return SKIP
    results = {k: [] for k in impls}
    groups = [("seed", 2, bench_trial_seed), ("seed", 3, bench_trial_three),
              ("mutual", 2, bench_trial_mutual)]
    failures = []
    started = time.time()
    for variant, count, fn in groups:
        labs = {}
        try:
            for tag, impl in impls.items():
                short = "ka" if tag == "keepalived" else "kd"
                labs[tag] = Lab(f"kdb-{os.getpid()}-{short}{count}{variant[0]}", [impl] * count, variant)
                labs[tag].setup()
                labs[tag].start()
            broken = set()   # a failed trial leaves its lab in an unknown state
            for k in range(a.trials):
                # alternate which implementation goes first, so drift hits both alike
                order = list(impls) if k % 2 == 0 else list(reversed(impls))
                for tag in (t for t in order if t not in broken):
                    log(f"{variant}/{count} trial {k + 1} {tag}")
                    try:
                        fn(labs[tag], results[tag])
                    except LabFailure as e:
                        failures.append(f"{tag} {variant}/{count} trial {k + 1}: {e}")
                        log(f"FAIL {failures[-1]}")
                        broken.add(tag)
        finally:
            for lab in labs.values():
                lab.teardown(keep_logs=bool(failures))
    lines = report(results, a.trials, time.time() - started, failures, a.label)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 1 if failures else 0


def summary(values):
    if not values:
        return "-", None
    m = statistics.median(values)
    return f"{m:.0f} ({min(values):.0f}-{max(values):.0f}, n={len(values)})", m


def table(results, column):
    """One row per scenario: both medians (with range), their ratio and the 5% verdict."""
    rows, off = [f"{'scenario':<16} {'keepalived':<26} {'keepalivedd':<26} {'ratio':>6}  verdict"], []
    for sc in BENCH_ORDER:
        cells = []
        for tag in ("keepalived", "keepalivedd"):
            vals = [r[column] for r in results[tag] if r[0] == sc and r[column] is not None]
            cells.append(summary(vals))
        (ka_s, ka_m), (kd_s, kd_m) = cells
        if ka_m and kd_m:
            r = kd_m / ka_m
            verdict = "within 5%" if abs(r - 1) <= 0.05 else ("faster by >5%" if r < 1 else "SLOWER by >5%")
            ratio = f"{r:.3f}"
        else:
            ratio, verdict = "-", "no data"
        if verdict != "within 5%":
            off.append(f"{sc} ({verdict})")
        rows.append(f"{sc:<16} {ka_s:<26} {kd_s:<26} {ratio:>6}  {verdict}")
    return rows, off


def report(results, trials, elapsed, failures, label=""):
    polled, polled_off = table(results, 1)
    wire, wire_off = table(results, 2)
    lines = [
        "# VRRP failover: keepalivedd vs keepalived 2.2.7, measured in the same run",
        f"# benches/vrrp-failover.sh, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{trials} trials per scenario, {elapsed / 60:.1f} min; identical namespace labs",
        "# (tests/vrrp/vrrplab.py), seed configurations, trials alternating between daemons.",
        "# Each action (SIGSTOP+SIGKILL, SIGTERM, state file removed/created, ip link down/up)",
        "# is placed 50 ms after one of the master's adverts (100 ms after a script run for the",
        "# script cases), so the timer phase is the same for both. Milliseconds from the action:",
        "# median (min-max, n); ratio = keepalivedd median / keepalived median, target within 5%.",
        *([f"# keepalivedd: {label}"] if label else []),
        "",
        "## polled: the VIP seen on its new holder (`ip addr` every 10 ms, about 15 ms resolution)",
        *polled,
        "",
        "## wire: the new holder's first advert as master, seen by the client on the bridge",
        *wire,
        "",
        "verdict: " + ("every scenario within 5% on both measures" if not (polled_off or wire_off) else
                       f"not within 5%: polled {', '.join(polled_off) or 'none'}; "
                       f"wire {', '.join(wire_off) or 'none'}"),
    ]
    if failures:
        lines += ["", "failures (that daemon's later trials in the same group were not run):"]
        lines += [f"  {f}" for f in failures]
    lines += ["", "## every trial (scenario daemon polled wire)"]
    for tag in ("keepalived", "keepalivedd"):
        for sc, p, w in results[tag]:
            lines.append(f"{sc:<16} {tag:<12} {p:6.0f} {'-' if w is None else f'{w:.0f}':>6}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("scenario", choices=sorted(SCENARIOS))
    c.add_argument("--impl", action="append", help="nI=keepalived|PATH (default keepalived)")
    b = sub.add_parser("bench")
    b.add_argument("--trials", type=int, default=3)
    b.add_argument("--keepalivedd", required=True)
    b.add_argument("--out")
    b.add_argument("--label", default="", help="where the keepalivedd binary comes from")
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--vip", action="append", required=True)
    s.add_argument("--port", type=int, default=PORT)
    s.add_argument("--seconds", type=float, default=3600)
    g = sub.add_parser("agent")
    g.add_argument("--vip", action="append", required=True)
    g.add_argument("--port", type=int, default=PORT)
    g.add_argument("--dev", default="eth1")
    g.add_argument("--seconds", type=float, default=3600)
    p = sub.add_parser("probe")
    p.add_argument("case")
    p.add_argument("--src", default=CLIENT)
    p.add_argument("--vrid", type=int, default=77)
    p.add_argument("--prio", type=int, default=254)
    p.add_argument("--vip", default=VIP1)
    p.add_argument("--auth", default="11111")
    p.add_argument("--dev", default="eth1")
    a = ap.parse_args()
    handlers = {"check": cmd_check, "bench": cmd_bench, "serve": cmd_serve, "agent": cmd_agent,
                "probe": cmd_probe}
    # SIGTERM/SIGINT unwind through the `finally` blocks, so namespaces are deleted
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    sys.exit(handlers[a.cmd](a) or 0)


if __name__ == "__main__":
    main()
