#!/usr/bin/env python3
"""Side-by-side load test of HAProxy 2.6 (side A) and haproxyd (side B).

Run through benches/run-side-by-side, which builds haproxyd and installs the
Debian tools first; benches/README.md describes the method and the figures.

Everything runs on loopback: two nginx instances (one worker each) serve a
small page, a 10 KiB and a 1 MiB body; each proxy in turn is started on a
configuration derived from the seed haproxy.cfg and driven by wrk. Sides
alternate A B B A ... within the same run; each round starts a fresh proxy
process, so its peak RSS and CPU time belong to that round only.

Every wait is bounded, and only processes started here are stopped, by PID.
"""

import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

# Scenario name -> (config variant, request path, extra wrk arguments).
SCENARIOS = {
    "seed": ("seed", "/", []),
    "keepalive": ("keepalive", "/", []),
    "conn-close": ("keepalive", "/", ["-H", "Connection: close"]),
    "body-10k": ("keepalive", "/static/10k.bin", []),
    "body-1m": ("keepalive", "/static/1m.bin", []),
}

SCENARIO_TEXT = {
    "seed": "seed config as written (httpclose frontend, http-server-close), GET /",
    "keepalive": "option http-keep-alive on both sides, GET /",
    "conn-close": "keep-alive config, wrk sends Connection: close, GET /",
    "body-10k": "keep-alive config, GET /static/10k.bin (10 KiB)",
    "body-1m": "keep-alive config, GET /static/1m.bin (1 MiB)",
}

WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 65s;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


class BenchError(Exception):
    """A setup or measurement step failed; the message says which."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_until(predicate, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def status_kb(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def stop(proc, grace=5.0):
    """Stops a process started here, by PID: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


# --- configurations ---------------------------------------------------------

DROP_GLOBAL = re.compile(r"^\s*(chroot|pidfile|user|group|daemon|stats\s+socket)\b")


def proxy_config(seed_text, variant, ports, nbthread, idle=0):
    """Derives a loopback configuration from the seed haproxy.cfg.

    The seed's meaning is kept; only what cannot run here changes: the
    chroot, user, daemon and stats-socket lines go, binds and servers move to
    loopback ports, and `nbthread` is set. Variants: `seed` as written,
    `keepalive` (http-keep-alive on the frontend and in defaults) and `idle`
    (keepalive with the global and default maxconn raised just above `idle`
    connections for the idle-connection test; HAProxy needs 2 * maxconn + 17
    descriptors, so the hard descriptor limit bounds `idle`).
    """
    out = []
    section = None
    for raw in seed_text.splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        words = line.split()
        if not raw[:1].isspace():
            section = words[0]
        if section == "global" and DROP_GLOBAL.match(line):
            continue
        if words[0] == "bind" and words[1] == ":8080":
            line = f"    bind 127.0.0.1:{ports['stats']}"
        elif words[0] == "bind" and words[1] == ":80":
            line = f"    bind 127.0.0.1:{ports['frontend']}"
        elif words[0] == "server" and words[1] == "web1":
            line = line.replace("192.168.10.3:80", f"127.0.0.1:{ports['web1']}")
        elif words[0] == "server" and words[1] == "web2":
            line = line.replace("192.168.10.4:80", f"127.0.0.1:{ports['web2']}")
        elif variant != "seed" and words[:2] in (["option", "httpclose"], ["option", "http-server-close"]):
            line = re.sub(r"\S+$", "http-keep-alive", line)
        elif variant == "idle" and words[0] == "maxconn":
            line = re.sub(r"\d+", str(idle + (60 if section == "global" else 40)), line)
        out.append(line)
        if words == ["global"]:
            out.append(f"    nbthread {nbthread}")
    text = "\n".join(out) + "\n"
    for needle in (f":{ports['web1']} ", f":{ports['web2']} ", f":{ports['frontend']}"):
        if needle not in text:
            raise BenchError(f"the seed configuration changed shape: no {needle.strip()} after rewriting")
    return text


# --- processes ----------------------------------------------------------------


@dataclass
class Side:
    label: str
    binary: str

    def command(self, cfg):
        return [self.binary, "-db", "-f", str(cfg)]


@dataclass
class Round:
    scenario: str
    phase: str
    side: str
    number: int
    rps: float = 0.0
    p50_us: int = 0
    p99_us: int = 0
    cpu_us_per_req: float = 0.0
    hwm_kb: int = 0
    requests: int = 0
    bytes_per_resp: float = 0.0
    errors: int = 0
    error_detail: str = ""
    extra: dict = field(default_factory=dict)


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.seed = Path(args.seed).read_text()
        base = args.port_base
        self.ports = {"frontend": base, "stats": base + 1, "web1": base + 2, "web2": base + 3}
        busy = [p for p in self.ports.values() if not port_free(p)]
        if busy:
            raise BenchError(f"loopback ports {busy} are in use; set PORT_BASE to a free range")
        self.nginx = []
        self.wrk_script = work / "done.lua"
        self.wrk_script.write_text(WRK_SCRIPT)
        self.sides = [Side("haproxy", args.a), Side(args.b_label, args.b)]

    # nginx -----------------------------------------------------------------

    def start_nginx(self):
        root = self.work / "www"
        (root / "static").mkdir(parents=True)
        (root / "index.html").write_text(
            "<!doctype html><html><head><title>bench</title></head>"
            "<body><p>" + "small page " * 40 + "</p></body></html>\n"
        )
        (root / "static" / "10k.bin").write_bytes(bytes(range(256)) * 40)
        (root / "static" / "1m.bin").write_bytes(bytes(range(256)) * 4096)
        # nginx workers drop to an unprivileged user; let them read the files.
        for path in [self.work, root, root / "static"]:
            path.chmod(0o755)
        for name in ["web1", "web2"]:
            d = self.work / f"nginx-{name}"
            d.mkdir()
            d.chmod(0o755)
            conf = d / "nginx.conf"
            conf.write_text(NGINX_CONF.format(dir=d, port=self.ports[name], root=root))
            proc = subprocess.Popen(
                ["taskset", "-c", self.args.load_cpu, self.args.nginx, "-p", str(d), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=open(d / "stderr", "w"),
            )
            self.nginx.append(proc)
            wait_until(lambda: can_connect(self.ports[name]), 10, f"nginx {name} on port {self.ports[name]}")
        log(f"nginx: two instances on 127.0.0.1:{self.ports['web1']} and :{self.ports['web2']}")

    def nginx_affinity(self, cpus):
        """Pins (or unpins) the nginx masters and their workers."""
        for proc in self.nginx:
            pids = [proc.pid]
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
            if children.exists():
                pids += [int(p) for p in children.read_text().split()]
            for pid in pids:
                os.sched_setaffinity(pid, cpus)

    def stop_nginx(self):
        for proc in self.nginx:
            # nginx treats SIGQUIT as a graceful stop of master and workers.
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)
        for proc in self.nginx:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    # proxies ----------------------------------------------------------------

    def check_configs(self):
        """Both proxies must accept every generated configuration."""
        for variant in ["seed", "keepalive", "idle"]:
            cfg = self.work / f"check-{variant}.cfg"
            cfg.write_text(proxy_config(self.seed, variant, self.ports, 1, self.args.idle))
            for side in self.sides:
                res = subprocess.run([side.binary, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=60)
                if res.returncode != 0:
                    raise BenchError(f"{side.label} -c refused the {variant} configuration:\n{res.stdout}{res.stderr}")
        for variant in ["seed", "keepalive"]:
            (self.work / f"{variant}.cfg").write_text(proxy_config(self.seed, variant, self.ports, 1))

    def start_proxy(self, side, variant, nbthread, cpus, tag):
        cfg = self.work / f"{tag}.cfg"
        cfg.write_text(proxy_config(self.seed, variant, self.ports, nbthread, self.args.idle))
        err = open(self.work / f"{tag}.stderr", "w")
        proc = subprocess.Popen(
            ["taskset", "-c", cpus] + side.command(cfg),
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_until(
                lambda: proc.poll() is not None or can_connect(self.ports["frontend"]),
                15,
                f"{side.label} to listen",
            )
        except BenchError:
            stop(proc)
            raise
        if proc.poll() is not None:
            raise BenchError(
                f"{side.label} exited with {proc.returncode} at startup:\n"
                + (self.work / f"{tag}.stderr").read_text()[-2000:]
            )
        return proc

    # measurement --------------------------------------------------------------

    def wrk(self, path, extra, threads, cpus):
        url = f"http://127.0.0.1:{self.ports['frontend']}{path}"
        cmd = ["taskset", "-c", cpus, self.args.wrk, f"-t{threads}", f"-c{self.args.connections}",
               f"-d{self.args.duration}s", "--timeout", "5s", "--latency", "-s", str(self.wrk_script)]
        res = subprocess.run(cmd + extra + [url], capture_output=True, text=True,
                             timeout=self.args.duration + 30)
        m = re.search(r"^RESULT (.*)$", res.stdout, re.M)
        if res.returncode != 0 or not m:
            raise BenchError(f"wrk failed ({res.returncode}):\n{res.stdout}{res.stderr}")
        return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}

    def load_round(self, scenario, phase, side, number):
        variant, path, extra = SCENARIOS[scenario]
        pinned = phase == "pinned"
        nbthread = 1 if pinned else 2
        proxy_cpus = self.args.proxy_cpu if pinned else "0,1"
        load_cpus = self.args.load_cpu if pinned else "0,1"
        threads = 1 if pinned else 2
        tag = f"{phase}-{scenario}-{side.label}-{number}"
        proc = self.start_proxy(side, variant, nbthread, proxy_cpus, tag)
        try:
            before = cpu_ticks(proc.pid)
            res = self.wrk(path, extra, threads, load_cpus)
            after = cpu_ticks(proc.pid)
            hwm = status_kb(proc.pid, "VmHWM")
            if proc.poll() is not None:
                raise BenchError(f"{side.label} died during {tag}")
        finally:
            stop(proc)
        r = Round(scenario, phase, side.label, number)
        r.requests = res["requests"]
        if r.requests == 0:
            raise BenchError(f"no request completed in {tag}")
        r.rps = r.requests / (res["duration_us"] / 1e6)
        r.p50_us, r.p99_us = res["p50_us"], res["p99_us"]
        r.cpu_us_per_req = (after - before) / CLK_TCK * 1e6 / r.requests
        r.hwm_kb = hwm
        r.bytes_per_resp = res["bytes"] / r.requests
        errs = {k: res[k] for k in ["connect", "read", "write", "status", "timeout"] if res[k]}
        r.errors = sum(errs.values())
        r.error_detail = " ".join(f"{k}={v}" for k, v in errs.items())
        return r

    def idle_round(self, side, number):
        """RSS of a proxy holding `idle` client connections that sent nothing."""
        count = self.args.idle
        tag = f"idle-{side.label}-{number}"
        proc = self.start_proxy(side, "idle", 1, self.args.proxy_cpu, tag)
        socks = []
        sel = selectors.DefaultSelector()
        try:
            base_fds = open_fds(proc.pid)
            rss_before = status_kb(proc.pid, "VmRSS")
            deadline = time.monotonic() + 30
            pending = 0
            for _ in range(count):
                s = socket.socket()
                s.setblocking(False)
                socks.append(s)
                s.connect_ex(("127.0.0.1", self.ports["frontend"]))
                sel.register(s, selectors.EVENT_WRITE)
                pending += 1
                # Keep the number of handshakes in flight below the accept
                # backlog so none is dropped and retried after a second.
                while pending > 512 and time.monotonic() < deadline:
                    for key, _ in sel.select(timeout=0.5):
                        sel.unregister(key.fileobj)
                        pending -= 1
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=0.5):
                    sel.unregister(key.fileobj)
                    pending -= 1
            failed = sum(1 for s in socks if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
            if pending or failed:
                raise BenchError(f"{tag}: {pending} connections pending, {failed} failed")
            # The kernel completes handshakes before the proxy accepts; wait
            # until the proxy holds a descriptor for each connection.
            # A health check may hold a socket briefly, so the baseline can
            # be a few descriptors high: allow that much slack.
            wait_until(lambda: open_fds(proc.pid) >= base_fds + count - 8, 20,
                       f"{side.label} to accept {count} connections", interval=0.1)
            time.sleep(0.5)
            rss_idle = status_kb(proc.pid, "VmRSS")
            if proc.poll() is not None:
                raise BenchError(f"{side.label} died during {tag}")
        finally:
            sel.close()
            for s in socks:
                s.close()
            stop(proc)
        r = Round("idle", "pinned", side.label, number)
        r.extra = {"rss_before_kb": rss_before, "rss_idle_kb": rss_idle,
                   "per_conn_bytes": (rss_idle - rss_before) * 1024 / count}
        return r


    # profiles ---------------------------------------------------------------

    def profile(self, side, scenario, out):
        """Samples one pinned proxy under load with perf (cpu-clock, DWARF
        call graphs) and counts its system calls; writes a text report."""
        variant, path, extra = SCENARIOS[scenario]
        tag = f"profile-{scenario}-{side.label}"
        data = self.work / f"{tag}.data"
        dur = str(self.args.duration)
        proc = self.start_proxy(side, variant, 1, self.args.proxy_cpu, tag)
        try:
            pid = str(proc.pid)
            rec = subprocess.Popen(
                ["perf", "record", "-q", "-e", "cpu-clock", "-F", "997", "--call-graph", "dwarf,8192",
                 "-o", str(data), "-p", pid, "--", "sleep", dur],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            events = ",".join(["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{n}" for n in SYSCALLS])
            st = subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-p", pid, "--", "sleep", dur],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            before = cpu_ticks(proc.pid)
            res = self.wrk(path, extra, 1, self.args.load_cpu)
            after = cpu_ticks(proc.pid)
            _, rec_err = rec.communicate(timeout=60)
            _, stat_err = st.communicate(timeout=60)
            if rec.returncode != 0 or st.returncode != 0:
                raise BenchError(f"perf failed for {tag}:\n{rec_err}{stat_err}")
        finally:
            stop(proc)
        reqs = max(res["requests"], 1)
        lines = [f"{side.label}, scenario {scenario}, pinned, {dur} s: {reqs} requests, "
                 f"{(after - before) / CLK_TCK * 1e6 / reqs:.1f} us CPU per request "
                 f"(sampled at 997 Hz, so slower than unprofiled)", "", "system calls per request:"]
        counts = []
        for row in stat_err.splitlines():
            cols = row.split(",")
            if len(cols) > 2 and cols[0].strip().isdigit():
                counts.append((int(cols[0]), cols[2].split(":")[-1].replace("sys_enter_", "")))
        for n, name in sorted(counts, reverse=True):
            if n:
                lines.append(f"  {name:<16} {n / reqs:8.2f}")
        for title, args in [
            ("self time by binary", ["--sort", "dso", "-g", "none", "--no-children", "--percent-limit", "0.5"]),
            ("self time by function", ["--sort", "dso,symbol", "-g", "none", "--no-children",
                                       "--percent-limit", "0.7"]),
            ("inclusive time by function (children)", ["--sort", "symbol", "-g", "none", "--children",
                                                       "--percent-limit", "4"]),
        ]:
            rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "-q"] + args,
                                 capture_output=True, text=True, timeout=600)
            # perf appends empty sort columns as "-"; drop them.
            body = [re.sub(r"(\s+-)+\s*$", "", ln) for ln in rep.stdout.splitlines() if ln.strip()]
            lines += ["", title + ":"] + ["  " + ln.strip()[:150] for ln in body[:45]]
        text = "\n".join(lines) + "\n"
        (out / f"{tag}.txt").write_text(text)
        data.unlink(missing_ok=True)
        log(text)


SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
            "epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "connect", "close", "socket",
            "setsockopt", "getsockopt", "getsockname", "getpeername", "shutdown", "futex",
            "sched_yield", "splice", "pipe2", "ioctl", "fcntl", "clock_gettime", "gettimeofday"]


# --- report -------------------------------------------------------------------


def med(values):
    return statistics.median(values) if values else float("nan")


def ratio(b, a):
    return b / a if a else float("nan")


def verdict(value, op, target):
    if value != value:  # NaN
        return "n/a"
    ok = value <= target if op == "<=" else value >= target
    return "met" if ok else "MISSED"


def report(rounds, args, sides, started, elapsed):
    a, b = sides[0].label, sides[1].label
    lines = []
    w = lines.append
    w(f"side by side: {a} (A) vs {b} (B), same run, order A B B A ...")
    w(f"haproxy:  {first_line([args.a, '-v'])}")
    w(f"{b}: {first_line([args.b, '-v'])}")
    if args.note:
        w(f"build:    {args.note}")
    w(f"machine:  {os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}; "
      f"run {started}, {elapsed / 60:.1f} min")
    w(f"load:     wrk -c{args.connections}, {args.duration} s per round, {args.rounds} rounds per side; "
      f"medians; ratio = B/A")
    w(f"pinned:   proxy nbthread 1 on CPU {args.proxy_cpu}; wrk -t1 and both nginx on CPU {args.load_cpu}")
    w("")
    header = f"{'scenario':<11} {'metric':<15} {a:>10} {b:>10} {'ratio':>7}  target"
    w(header)
    w("-" * len(header))
    metrics = [
        ("req/s", "rps", ">=", 1.1, "{:10.0f}"),
        ("p50 latency us", "p50_us", None, None, "{:10.0f}"),
        ("p99 latency us", "p99_us", "<=", 1.0, "{:10.0f}"),
        ("CPU us/req", "cpu_us_per_req", "<=", 0.9, "{:10.1f}"),
        ("peak RSS MiB", "hwm_kb", "<=", 1.0, "{:10.1f}"),
    ]
    for scenario in SCENARIOS:
        for phase in ["pinned", "unpinned"]:
            sel = [r for r in rounds if r.scenario == scenario and r.phase == phase]
            if not sel:
                continue
            name = scenario if phase == "pinned" else f"{scenario}*"
            for label, attr, op, target, fmt in metrics:
                if phase == "unpinned" and attr != "rps":
                    continue
                va = med([getattr(r, attr) for r in sel if r.side == a])
                vb = med([getattr(r, attr) for r in sel if r.side == b])
                if attr == "hwm_kb":
                    va, vb = va / 1024, vb / 1024
                rt = ratio(vb, va)
                tgt = f"{op} {target:.2f} {verdict(rt, op, target)}" if op else ""
                w(f"{name:<11} {label:<15} {fmt.format(va)} {fmt.format(vb)} {rt:7.2f}  {tgt}")
            if phase == "unpinned":
                for side in [a, b]:
                    one = med([r.rps for r in rounds if r.scenario == scenario and r.phase == "pinned" and r.side == side])
                    two = med([r.rps for r in sel if r.side == side])
                    sc = ratio(two, one)
                    w(f"{name:<11} {'scaling ' + side:<26} {sc:10.2f}          >= 1.70 {verdict(sc, '>=', 1.7)}")
            ea = sum(r.errors for r in sel if r.side == a)
            eb = sum(r.errors for r in sel if r.side == b)
            tgt = "== 0 " + ("met" if ea == 0 and eb == 0 else "MISSED")
            w(f"{name:<11} {'errors (sum)':<15} {ea:10d} {eb:10d} {'':>7}  {tgt}")
            w("")
    idle = [r for r in rounds if r.scenario == "idle"]
    if idle:
        for label, key, fmt, scale in [
            ("RSS before MiB", "rss_before_kb", "{:10.1f}", 1 / 1024),
            ("RSS idle MiB", "rss_idle_kb", "{:10.1f}", 1 / 1024),
            ("bytes/idle conn", "per_conn_bytes", "{:10.0f}", 1),
        ]:
            va = med([r.extra[key] for r in idle if r.side == a]) * scale
            vb = med([r.extra[key] for r in idle if r.side == b]) * scale
            rt = ratio(vb, va)
            tgt = f"<= 1.00 {verdict(rt, '<=', 1.0)}" if key != "rss_before_kb" else ""
            w(f"{'idle':<11} {label:<15} {fmt.format(va)} {fmt.format(vb)} {rt:7.2f}  {tgt}")
        w("")
    w("* unpinned: nbthread 2, proxy, wrk -t2 and nginx free to use both CPUs; scaling = unpinned")
    w("  req/s over the pinned one-thread req/s of the same side (the 2 CPUs are shared with the load).")
    w(f"idle: {args.idle} client connections opened and held without sending, VmRSS of the proxy;")
    w("  bytes/idle conn = (RSS idle - RSS before) / connections.")
    return "\n".join(lines) + "\n"


def first_line(cmd):
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (res.stdout or res.stderr).splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def write_rounds(rounds, path):
    with open(path, "w") as f:
        f.write("phase,scenario,side,round,req_per_s,p50_us,p99_us,cpu_us_per_req,peak_rss_kb,"
                "requests,bytes_per_response,errors,error_detail,rss_before_kb,rss_idle_kb\n")
        for r in rounds:
            f.write(f"{r.phase},{r.scenario},{r.side},{r.number},{r.rps:.0f},{r.p50_us},{r.p99_us},"
                    f"{r.cpu_us_per_req:.2f},{r.hwm_kb},{r.requests},{r.bytes_per_resp:.0f},{r.errors},"
                    f"{r.error_detail},{r.extra.get('rss_before_kb', '')},{r.extra.get('rss_idle_kb', '')}\n")


BEGIN = "<!-- side-by-side results: begin (written by benches/run-side-by-side) -->"
END = "<!-- side-by-side results: end -->"


def update_readme(readme, table):
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise BenchError(f"{readme} lacks the results markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n```text\n{table}```\n{END}{tail}")


def retried(measure):
    """Runs one round, and once more if it fails: a shared machine can make
    a single round fail (a stray port, a slow start) without any fault of
    the proxy. A second failure ends the run."""
    try:
        return measure()
    except BenchError as e:
        log(f"round failed, retrying once: {e}")
        return measure()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", default="haproxy", help="side A binary (HAProxy)")
    p.add_argument("--b", required=True, help="side B binary (haproxyd)")
    p.add_argument("--b-label", default="haproxyd")
    p.add_argument("--seed", required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--idle", type=int, default=10000)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--unpinned", default="keepalive", help="scenarios also run unpinned with 2 threads")
    p.add_argument("--port-base", type=int, default=29180)
    p.add_argument("--proxy-cpu", default="0")
    p.add_argument("--load-cpu", default="1")
    p.add_argument("--nginx", default="/usr/sbin/nginx")
    p.add_argument("--wrk", default="wrk")
    p.add_argument("--out", required=True, help="results directory")
    p.add_argument("--readme", help="README whose results block is replaced")
    p.add_argument("--profile", default="", help="profile these scenarios with perf instead of measuring")
    p.add_argument("--note", default="", help="a line on the build measured, for the report")
    args = p.parse_args()

    scenarios = [s for s in args.scenarios.split(",") if s]
    unpinned = [s for s in args.unpinned.split(",") if s]
    for s in scenarios + unpinned:
        if s not in SCENARIOS and s != "idle":
            raise SystemExit(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}, idle")
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")

    # The driver itself (and the idle-connection client) runs with the load.
    os.sched_setaffinity(0, {int(c) for c in args.load_cpu.split(",")})
    started = time.strftime("%Y-%m-%d %H:%M")
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="side-by-side."))
    bench = None
    rounds = []
    try:
        bench = Bench(args, work)
        bench.check_configs()
        bench.start_nginx()
        if args.profile:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for scenario in [s for s in args.profile.split(",") if s]:
                if scenario not in SCENARIOS:
                    raise BenchError(f"unknown scenario {scenario!r}")
                for side in bench.sides:
                    bench.profile(side, scenario, out)
            plan = []
            scenarios = []
        else:
            plan = [(s, "pinned") for s in scenarios if s != "idle"]
            plan += [(s, "unpinned") for s in unpinned if s != "idle"]
        for scenario, phase in plan:
            if phase == "unpinned":
                bench.nginx_affinity({0, 1})
            for n in range(args.rounds):
                order = bench.sides if n % 2 == 0 else bench.sides[::-1]
                for side in order:
                    r = retried(lambda: bench.load_round(scenario, phase, side, n + 1))
                    rounds.append(r)
                    log(f"{phase:8} {scenario:10} {side.label:9} round {n + 1}: {r.rps:8.0f} req/s "
                        f"p50 {r.p50_us} us p99 {r.p99_us} us cpu {r.cpu_us_per_req:6.1f} us/req "
                        f"hwm {r.hwm_kb} KiB {r.bytes_per_resp:.0f} B/resp errors {r.errors} {r.error_detail}")
            if phase == "unpinned":
                bench.nginx_affinity({int(c) for c in args.load_cpu.split(",")})
        if "idle" in scenarios:
            for n in range(args.rounds):
                order = bench.sides if n % 2 == 0 else bench.sides[::-1]
                for side in order:
                    r = retried(lambda: bench.idle_round(side, n + 1))
                    rounds.append(r)
                    log(f"idle     {side.label:9} round {n + 1}: RSS {r.extra['rss_before_kb']} -> "
                        f"{r.extra['rss_idle_kb']} KiB, {r.extra['per_conn_bytes']:.0f} B/conn")
    except BenchError as e:
        log(f"side-by-side: {e}")
        log(f"work directory kept for inspection: {work}")
        failure = str(e)
    else:
        failure = None
        shutil.rmtree(work, ignore_errors=True)
    finally:
        if bench:
            bench.stop_nginx()
    if args.profile or bench is None:
        return 1 if failure else 0
    if failure:
        # Keep what was measured, but never where a complete run's figures go.
        if rounds:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            table = report(rounds, args, bench.sides, started, time.monotonic() - t0)
            (out / "side-by-side-incomplete.txt").write_text(f"INCOMPLETE RUN: {failure}\n\n{table}")
            write_rounds(rounds, out / "side-by-side-incomplete.csv")
            log(f"partial results in {out}/side-by-side-incomplete.txt")
        return 1

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = report(rounds, args, bench.sides, started, time.monotonic() - t0)
    (out / "side-by-side.txt").write_text(table)
    write_rounds(rounds, out / "side-by-side-rounds.csv")
    if args.readme:
        update_readme(Path(args.readme), table)
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
