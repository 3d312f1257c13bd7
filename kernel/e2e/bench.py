"""goinv vs ipykernel, side by side, measured the same way:

  start-up   launch the kernel, send kernel_info_request every 20 ms, time to the first reply
  round trip median and p99 of execute `1 + 1` → execute_reply through jupyter_client
  RSS        resident memory of the kernel (plus its executor, for goinv) after 1,000 cells

usage: /usr/bin/python3 kernel/e2e/bench.py [--cells 1000] [--starts 5]
Needs goinv installed as kernelspec "goinv" (JUPYTER_PATH) and Debian python3-ipykernel.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.session import Session


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def launch(name, d):
    ports = free_ports(5)
    conn = dict(transport="tcp", ip="127.0.0.1", shell_port=ports[0], iopub_port=ports[1], stdin_port=ports[2],
                control_port=ports[3], hb_port=ports[4], key="bench-key", signature_scheme="hmac-sha256", kernel_name=name)
    cf = os.path.join(d, f"{name}-{ports[0]}.json")
    with open(cf, "w") as f:
        json.dump(conn, f)
    spec = KernelSpecManager().get_kernel_spec(name)
    argv = [a.replace("{connection_file}", cf) for a in spec.argv]
    env = dict(os.environ, **(spec.env or {}))
    # Benchmark cells stay out of the user's history (goinv would otherwise append
    # thousands of "1 + 1" to it, and read them back at every start).
    env.setdefault("GOINV_HISTORY", os.path.join(d, "history.jsonl"))
    return conn, cf, argv, env


def startup(name, d):
    conn, cf, argv, env = launch(name, d)
    sess = Session(key=b"bench-key")
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    # libzmq retries a refused connection every 100 ms by default, which would
    # quantise the measurement; retry every millisecond instead.
    sock.setsockopt(zmq.RECONNECT_IVL, 1)
    sock.connect(f"tcp://127.0.0.1:{conn['shell_port']}")
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = None
    while time.perf_counter() - t0 < 30:
        sess.send(sock, "kernel_info_request", {})
        if sock.poll(20):
            sess.recv(sock)
            dt = time.perf_counter() - t0
            break
    sock.close()
    p.kill()
    p.wait()
    return dt


def rss_kb(pid):
    """Resident memory of pid and its child processes (the executor: any thread of
    the kernel may have started it, so every thread's children count)."""
    total = 0
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            pids += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    for q in pids:
        for line in open(f"/proc/{q}/status"):
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def roundtrip(name, d, cells):
    conn, cf, argv, env = launch(name, d)
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kc = BlockingKernelClient(connection_file=cf)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        for _ in range(20):  # warm up
            kc.execute("1 + 1")
            kc.get_shell_msg(timeout=30)
        rss0 = rss_kb(p.pid)
        times = []
        for _ in range(cells):
            t0 = time.perf_counter()
            mid = kc.execute("1 + 1")
            while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != mid:
                pass
            times.append(time.perf_counter() - t0)
        rss1 = rss_kb(p.pid)
    finally:
        kc.stop_channels()
        p.kill()
        p.wait()
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))], rss0, rss1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--kernels", default="goinv,python3")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in a.kernels.split(","):
            starts = sorted(s for s in (startup(name, d) for _ in range(a.starts)) if s is not None)
            med, p99, rss0, rss1 = roundtrip(name, d, a.cells)
            rows.append((name, statistics.median(starts) * 1e3, min(starts) * 1e3, med * 1e3, p99 * 1e3, rss0 / 1024, rss1 / 1024))
    print(f"{'kernel':10} {'start-up median':>16} {'(best)':>8} {'1+1 median':>11} {'p99':>8} {'RSS before':>11} {'RSS after %d cells' % a.cells:>20}")
    for r in rows:
        print(f"{r[0]:10} {r[1]:13.1f} ms {r[2]:5.1f} ms {r[3]:8.2f} ms {r[4]:5.2f} ms {r[5]:8.1f} MB {r[6]:17.1f} MB")


if __name__ == "__main__":
    main()
