"""goinv vs ipykernel, side by side, measured the same way:

  start-up    launch the kernel, send kernel_info_request every 20 ms, time to the first reply
  round trip  median and p99 of execute `1 + 1` → its execute_reply, through jupyter_client, two ways:
                client:  BlockingKernelClient, kc.execute() then kc.get_shell_msg() until the reply
                         (the figure the issue and the earlier closing notes quote; iopub is never read)
                session: jupyter_client's Session on blocking pyzmq sockets: Session.send of the
                         request to Session.recv of its reply (signed, serialized and deserialized
                         exactly as by jupyter_client's channels); between cells, untimed, iopub is
                         read up to the cell's idle status, as a frontend does before its next cell
  RSS         resident memory of the kernel (plus its executor, for goinv) after the warm-up, after
              100 and after 1,000 client cells, and after 2 s idle following them (the growth from
              100 to 1,000 cells is what a long session adds; the growth before is mostly the
              garbage collector's headroom filling up)
  floor       the same client measurements against a responder that does no work (clientfloor.py
              --serve: a Python process that answers every request at once and publishes what a
              kernel publishes for `1 + 1`), in the same run: "kernel share" is a kernel's median
              minus the floor's, the time the kernel itself adds to a round trip

Side by side. For each round trip, all the kernels (the floor included) run at once and take
turns, --chunk cells at a time (50), in an order reversed every round: this machine's speed drifts
by tens of percent within minutes, so kernels measured one after the other, a minute apart, were
not comparable (the floor's median alone moved from 0.63 to 1.15 ms between two runs). The RSS
figures are each kernel's own; the others are idle while it runs.

Why two round trips: BlockingKernelClient (jupyter_client 7) runs every get_shell_msg through
run_sync → nest_asyncio → an asyncio poll on a zmq.asyncio socket. Against a responder that answers
instantly (a Python ROUTER, no kernel behind it) that machinery alone measured 0.82–0.87 ms per
round trip on this machine, so the client figure cannot show a kernel faster than that. The session
figure uses the same Session class without the asyncio layer; both are measured identically for
every kernel, and both are printed.

Robust start-up. The failure "Kernel died before replying to kernel_info" seen in earlier runs was
jupyter_client's wait_for_ready without a KernelManager: it judges liveness by the heartbeat, and a
ping unanswered 1 s after the client started counts as dead, so ipykernel starting in over a second
(1.1 s on a loaded machine) was declared dead while still starting (reproduced: the process was
running). The client is now made once the kernel answers kernel_info. Besides, ports are picked
below the ephemeral port range (no outgoing connection of any process can take one as its source
port between our pick and the kernel's bind), the kernel's stderr is kept, and a launch that fails
is reported with that stderr and retried, at most twice, with fresh ports; the summary says how
many launches failed and why.

usage: /usr/bin/python3 kernel/e2e/bench.py [--cells 1000] [--starts 5] [--kernels goinv,python3] [--no-floor] [--chunk 50]
Needs goinv installed as kernelspec "goinv" (JUPYTER_PATH) and Debian python3-ipykernel.
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.session import Session

KEY = b"bench-key"


def ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return None


def free_ports(n):
    """n distinct ports that are free now. Below the ephemeral range when there is room:
    a port picked by bind(("", 0)) is an ephemeral port, which any process's outgoing
    connection may take as its source port before the kernel binds it."""
    eph = ephemeral_range()
    ports = []
    if eph and eph[0] > 11000:
        tried = 0
        while len(ports) < n and tried < 1000:
            tried += 1
            p = random.randrange(10000, eph[0])
            if p in ports:
                continue
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", p))
                ports.append(p)
            except OSError:
                pass
            finally:
                s.close()
    if len(ports) < n:
        socks = [socket.socket() for _ in range(n - len(ports))]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        ports += [s.getsockname()[1] for s in socks]
        for s in socks:
            s.close()
    return ports


class LaunchFailed(Exception):
    pass


class Kernel:
    """One kernel process, started from its kernelspec with a fresh connection file;
    its stderr is kept in a file."""

    seq = 0

    def __init__(self, name, d):
        Kernel.seq += 1
        ports = free_ports(5)
        self.name = name
        self.conn = dict(transport="tcp", ip="127.0.0.1", shell_port=ports[0], iopub_port=ports[1],
                         stdin_port=ports[2], control_port=ports[3], hb_port=ports[4], key=KEY.decode(),
                         signature_scheme="hmac-sha256", kernel_name=name)
        self.cf = os.path.join(d, f"{name}-{Kernel.seq}.json")
        with open(self.cf, "w") as f:
            json.dump(self.conn, f)
        if name == "floor":
            self.argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clientfloor.py"),
                         "--serve", self.cf]
            self.env = dict(os.environ)
        else:
            spec = KernelSpecManager().get_kernel_spec(name)
            self.argv = [a.replace("{connection_file}", self.cf) for a in spec.argv]
            self.env = dict(os.environ, **(spec.env or {}))
        # Benchmark cells stay out of the user's history (goinv would otherwise append
        # thousands of "1 + 1" to it, and read them back at every start).
        self.env.setdefault("GOINV_HISTORY", os.path.join(d, "history.jsonl"))
        self.errpath = os.path.join(d, f"{name}-{Kernel.seq}.stderr")
        self.p = None

    def url(self, channel):
        return f"tcp://127.0.0.1:{self.conn[channel + '_port']}"

    def start(self):
        self.p = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.errpath, "w"))

    def stderr(self, n=1500):
        try:
            return open(self.errpath, errors="replace").read()[-n:]
        except OSError:
            return ""

    def fail(self, what):
        """LaunchFailed saying what went wrong, whether the process is still alive, and
        the end of its stderr."""
        state = "still running" if self.p.poll() is None else f"exited with status {self.p.returncode}"
        err = self.stderr().strip()
        clash = "address already in use" in err.lower()
        msg = f"{what}; kernel process {state}; ports {[self.conn[c + '_port'] for c in ('shell', 'iopub', 'stdin', 'control', 'hb')]}"
        if clash:
            msg += " (a port collision)"
        msg += "\n    kernel stderr: " + (err.replace("\n", "\n    ") if err else "(empty)")
        return LaunchFailed(msg)

    def stop(self):
        if self.p is not None:
            self.p.kill()
            self.p.wait()


def attempts(name, d, what, fn, failures):
    """fn(kernel) with a fresh kernel, retried twice if the launch fails; every failure
    is printed and recorded."""
    for attempt in range(3):
        k = Kernel(name, d)
        try:
            return fn(k)
        except LaunchFailed as e:
            failures.append(f"{name} {what}: {e}")
            print(f"bench: {name} {what}, attempt {attempt + 1}: {e}", file=sys.stderr, flush=True)
        finally:
            k.stop()
    raise SystemExit(f"bench: {name} {what} failed three times; see above")


def startup(k):
    sess = Session(key=KEY)
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    # libzmq retries a refused connection every 100 ms by default, which would
    # quantise the measurement; retry every millisecond instead.
    sock.setsockopt(zmq.RECONNECT_IVL, 1)
    sock.connect(k.url("shell"))
    try:
        t0 = time.perf_counter()
        k.start()
        while time.perf_counter() - t0 < 30:
            sess.send(sock, "kernel_info_request", {})
            if sock.poll(20):
                sess.recv(sock)
                return time.perf_counter() - t0
            if k.p.poll() is not None:
                raise k.fail("the kernel exited before its first kernel_info_reply")
        raise k.fail("no kernel_info_reply within 30 s")
    finally:
        sock.close()


def rss(pid):
    """Resident memory (kB) of pid and of its child processes (the executor: any thread
    of the kernel may have started it, so every thread's children count), and each
    process's VmRSS, RssAnon and RssFile in MB."""
    total = 0
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            pids += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    detail = []
    for q in pids:
        f = {}
        for line in open(f"/proc/{q}/status"):
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                f[key] = int(line.split()[1])
        total += f.get("VmRSS", 0)
        detail.append(f"pid {q} {f.get('VmRSS', 0) / 1024:.1f} MB (anon {f.get('RssAnon', 0) / 1024:.1f}, file {f.get('RssFile', 0) / 1024:.1f})")
    return total, ", ".join(detail)


def wait_ready(k, timeout=60):
    """Starts k and returns once it answers kernel_info_request; raises LaunchFailed if
    it exits first or does not answer in time."""
    sess = Session(key=KEY)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(k.url("shell"))
    try:
        k.start()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            sess.send(sock, "kernel_info_request", {})
            if sock.poll(100):
                sess.recv(sock)
                return
            if k.p.poll() is not None:
                raise k.fail("the kernel exited before it answered kernel_info")
        raise k.fail(f"no kernel_info_reply within {timeout} s")
    finally:
        sock.close()


class ClientDriver:
    """The execute round trip through BlockingKernelClient: kc.execute(), then
    kc.get_shell_msg() until the reply."""

    what = "client round trip"

    def __init__(self, k):
        # Started and answering before the client is made. Without a KernelManager,
        # wait_for_ready judges liveness by the heartbeat: a ping unanswered 1 s after
        # the client started counts as dead, so a kernel that takes over a second to
        # start (ipykernel on a loaded machine: 1.1 s) was reported as "Kernel died
        # before replying to kernel_info" while it was still starting.
        wait_ready(k)
        self.kc = kc = BlockingKernelClient(connection_file=k.cf)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
        except RuntimeError as e:
            kc.stop_channels()
            raise k.fail(f"wait_for_ready: {e}")
        for _ in range(20):  # warm up
            self.cell()

    def cell(self):
        t0 = time.perf_counter()
        mid = self.kc.execute("1 + 1")
        while self.kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != mid:
            pass
        return time.perf_counter() - t0

    def close(self):
        self.kc.stop_channels()


class SessionDriver:
    """The execute round trip through jupyter_client's Session on blocking sockets:
    Session.send of the request to Session.recv of its reply; then, untimed, iopub up
    to the cell's idle status, as a frontend reads it before its next cell."""

    what = "session round trip"

    def __init__(self, k):
        self.k = k
        self.sess = sess = Session(key=KEY)
        ctx = zmq.Context.instance()
        self.shell = shell = ctx.socket(zmq.DEALER)
        self.iopub = iopub = ctx.socket(zmq.SUB)
        for s in (shell, iopub):
            s.linger = 0
        iopub.setsockopt(zmq.SUBSCRIBE, b"")
        shell.connect(k.url("shell"))
        iopub.connect(k.url("iopub"))
        k.start()
        try:
            # Ready when a kernel_info_reply has come and iopub delivers (a SUB socket
            # misses what was published before its subscription arrived).
            t0 = time.perf_counter()
            while True:
                if time.perf_counter() - t0 > 60:
                    raise k.fail("not ready within 60 s")
                if k.p.poll() is not None:
                    raise k.fail("the kernel exited before it was ready")
                sess.send(shell, "kernel_info_request", {})
                if shell.poll(1000):
                    sess.recv(shell, mode=0)
                    if iopub.poll(200):
                        break
            while shell.poll(200):  # replies to the requests sent while it started
                shell.recv_multipart()
            while iopub.poll(200):
                iopub.recv_multipart()
            for _ in range(20):
                self.cell()
        except BaseException:
            self.close()
            raise

    def recv(self, sock, timeout=30):
        if not sock.poll(timeout * 1000):
            raise self.k.fail(f"no message within {timeout} s")
        return self.sess.recv(sock, mode=0)[1]

    def cell(self):
        content = dict(code="1 + 1", silent=False, store_history=True, user_expressions={},
                       allow_stdin=True, stop_on_error=True)  # as BlockingKernelClient.execute sends it
        t0 = time.perf_counter()
        mid = self.sess.send(self.shell, "execute_request", content)["header"]["msg_id"]
        while self.recv(self.shell)["parent_header"].get("msg_id") != mid:
            pass
        dt = time.perf_counter() - t0
        while True:  # untimed: this cell's iopub messages, up to its idle status
            r = self.recv(self.iopub)
            if (r["parent_header"].get("msg_id") == mid and r["msg_type"] == "status"
                    and r["content"]["execution_state"] == "idle"):
                return dt

    def close(self):
        self.shell.close()
        self.iopub.close()


def interleaved(names, d, driver, cells, chunk, failures):
    """Round trips of every kernel in names, measured side by side: all are started
    (each launch retried twice if it fails), then they take turns, chunk cells at a
    time, in an order reversed every round, so that the machine's drift (its speed
    changes by tens of percent within minutes) falls on all of them alike. Returns, by
    name, the times and the RSS before, after 100 and after all cells, and 2 s later."""
    running = {}
    try:
        for name in names:
            for attempt in range(3):
                k = Kernel(name, d)
                try:
                    running[name] = (k, driver(k))
                    break
                except LaunchFailed as e:
                    k.stop()
                    failures.append(f"{name} {driver.what}: {e}")
                    print(f"bench: {name} {driver.what}, attempt {attempt + 1}: {e}", file=sys.stderr, flush=True)
            else:
                raise SystemExit(f"bench: {name} {driver.what} failed three times; see above")
        res = {name: {"times": [], "rss0": rss(k.p.pid)} for name, (k, _) in running.items()}
        order = list(names)
        done = 0
        while done < cells:
            n = min(chunk, cells - done)
            for name in order:
                k, drv = running[name]
                r = res[name]
                for i in range(done, done + n):
                    if i == 100:
                        r["rss100"] = rss(k.p.pid)
                    r["times"].append(drv.cell())
            done += n
            order.reverse()
        for name, (k, _) in running.items():
            res[name]["rss1"] = rss(k.p.pid)
            res[name].setdefault("rss100", res[name]["rss1"])
        time.sleep(2)
        for name, (k, _) in running.items():
            res[name]["rss2"] = rss(k.p.pid)
        return res
    finally:
        for k, drv in running.values():
            drv.close()
            k.stop()


def stats(times):
    times = sorted(times)
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--kernels", default="goinv,python3")
    ap.add_argument("--no-floor", action="store_true", help="skip the responder that does no work")
    ap.add_argument("--chunk", type=int, default=50, help="cells a kernel runs before the next one's turn")
    a = ap.parse_args()
    rows, details, failures = [], [], []
    load0 = os.getloadavg()
    names = a.kernels.split(",")
    if not a.no_floor:
        names = ["floor"] + names
    with tempfile.TemporaryDirectory() as d:
        starts = {}
        for name in names:
            if name == "floor":  # a Python process's start-up says nothing here
                starts[name] = [float("nan")]
            else:
                starts[name] = sorted(attempts(name, d, "start-up", startup, failures) for _ in range(a.starts))
        client = interleaved(names, d, ClientDriver, a.cells, a.chunk, failures)
        session = interleaved(names, d, SessionDriver, a.cells, a.chunk, failures)
        for name in names:
            c, st = client[name], starts[name]
            rows.append((name, statistics.median(st) * 1e3, st[0] * 1e3, *stats(c["times"]), *stats(session[name]["times"]),
                         c["rss0"][0] / 1024, c["rss100"][0] / 1024, c["rss1"][0] / 1024, c["rss2"][0] / 1024))
            if name != "floor":
                pad = " " * len(name)
                details.append(f"{name}: RSS before: {c['rss0'][1]}\n{pad}  after 100 cells: {c['rss100'][1]}\n"
                               f"{pad}  after {a.cells} cells: {c['rss1'][1]}\n{pad}  after 2 s idle: {c['rss2'][1]}")
    print(f"{'':10} {'start-up':>17} {'':>8} {'1+1 client (BlockingKernelClient)':>34} {'1+1 session (Session, no asyncio)':>34} "
          f"{'RSS':>11} {'after':>9} {'after':>9} {'then 2 s':>9}")
    print(f"{'kernel':10} {'median':>17} {'(best)':>8} {'median':>22} {'p99':>11} {'median':>22} {'p99':>11} "
          f"{'before':>11} {'100':>9} {'%d' % a.cells:>9} {'idle':>9}")
    for r in rows:
        start = f"{r[1]:14.1f} ms {r[2]:5.1f} ms" if r[1] == r[1] else f"{'-':>17} {'':>8}"
        print(f"{r[0]:10} {start} {r[3]:19.2f} ms {r[4]:8.2f} ms {r[5]:19.2f} ms {r[6]:8.2f} ms "
              f"{r[7]:8.1f} MB {r[8]:6.1f} MB {r[9]:6.1f} MB {r[10]:6.1f} MB")
    floor = [r for r in rows if r[0] == "floor"]
    if floor:
        f = floor[0]
        print()
        print("floor: the client against a Python responder that does no work (clientfloor.py --serve)")
        for r in rows:
            if r[0] != "floor":
                print(f"{r[0]}: kernel share of the median round trip: client {(r[3] - f[3]) * 1e3:+.0f} us, "
                      f"session {(r[5] - f[5]) * 1e3:+.0f} us; RSS growth after warm-up: "
                      f"{r[8] - r[7]:+.1f} MB at 100 cells, {r[9] - r[7]:+.1f} MB at {a.cells}")
    print()
    for line in details:
        print(line)
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} at the start, "
          f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} at the end (this machine has {os.cpu_count()} CPUs)")
    print(f"launch failures: {len(failures)}")
    for f in failures:
        print("  " + f)


if __name__ == "__main__":
    main()
