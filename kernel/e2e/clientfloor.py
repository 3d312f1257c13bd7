"""The client's own share of an execute round trip: jupyter_client against a kernel
that does no work.

A responder process (Python, pyzmq) binds the five Jupyter sockets and answers every
execute_request at once with a precomputed, signed execute_reply; with --iopub it also
publishes what a kernel publishes for `1 + 1` (busy, execute_input, execute_result
before the reply, idle after it). The client then measures the round trip the way
bench.py does:

  client   BlockingKernelClient: kc.execute() then kc.get_shell_msg() until the reply
  session  jupyter_client's Session on a blocking DEALER: Session.send to Session.recv
  raw      Session.send, then the reply's frames with recv_multipart (no deserializing)

Whatever these take is the floor below which no kernel can be measured by that method
on this machine (the responder's own work, a few tens of microseconds, is included).

usage: /usr/bin/python3 kernel/e2e/clientfloor.py [--iopub] [--cells 1000]
       /usr/bin/python3 kernel/e2e/clientfloor.py --serve CONNECTION_FILE
         (the responder alone, with iopub, on a connection file's ports and key: bench.py
         runs it as the "floor" kernel, measured exactly as the real kernels are)
"""
import argparse
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import socket
import statistics
import tempfile
import threading
import time

import zmq

KEY = b"bench-key"


def sign(parts):
    h = hmac.new(KEY, digestmod=hashlib.sha256)
    for p in parts:
        h.update(p)
    return h.hexdigest().encode()


def responder(ports, iopub_msgs):
    ctx = zmq.Context()
    shell = ctx.socket(zmq.ROUTER)
    shell.bind(f"tcp://127.0.0.1:{ports[0]}")
    iopub = ctx.socket(zmq.PUB)
    iopub.bind(f"tcp://127.0.0.1:{ports[1]}")
    for p in ports[2:4]:
        ctx.socket(zmq.ROUTER).bind(f"tcp://127.0.0.1:{p}")  # stdin, control: never used
    hb = ctx.socket(zmq.REP)
    hb.bind(f"tcp://127.0.0.1:{ports[4]}")

    def heartbeat():
        while True:
            hb.send(hb.recv())

    threading.Thread(target=heartbeat, daemon=True).start()
    n = 0
    while True:
        frames = shell.recv_multipart()
        i = frames.index(b"<IDS|MSG>")
        ids, parent = frames[:i], frames[i + 2]
        msg_type = json.loads(parent)["msg_type"]
        n += 1

        def msg(t, content):
            h = json.dumps({"msg_id": f"r{n}-{t}", "session": "floor", "username": "floor", "msg_type": t, "version": "5.3",
                            "date": "2026-01-01T00:00:00.000000Z"}).encode()
            c = json.dumps(content).encode()
            return [b"<IDS|MSG>", sign([h, parent, b"{}", c]), h, parent, b"{}", c]

        execute = msg_type == "execute_request"
        if iopub_msgs or not execute:  # wait_for_ready needs iopub traffic for kernel_info
            iopub.send_multipart([b"status"] + msg("status", {"execution_state": "busy"}))
        if execute:
            if iopub_msgs:
                iopub.send_multipart([b"execute_input"] + msg("execute_input", {"code": "1 + 1", "execution_count": n}))
                iopub.send_multipart([b"execute_result"] + msg("execute_result", {"execution_count": n, "data": {"text/plain": "2"}, "metadata": {}}))
            shell.send_multipart(ids + msg("execute_reply", {"status": "ok", "execution_count": n, "user_expressions": {}, "payload": []}))
        else:
            shell.send_multipart(ids + msg(msg_type.replace("_request", "_reply"), {"status": "ok", "protocol_version": "5.3"}))
        if iopub_msgs or not execute:
            iopub.send_multipart([b"status"] + msg("status", {"execution_state": "idle"}))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def stats(name, times):
    times = sorted(times)
    print(f"{name:52} median {statistics.median(times) * 1e3:6.3f} ms   p99 {times[int(0.99 * (len(times) - 1))] * 1e3:6.3f} ms")


def main():
    global KEY
    ap = argparse.ArgumentParser()
    ap.add_argument("--iopub", action="store_true", help="publish busy, execute_input, execute_result, idle as a kernel does")
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--serve", metavar="CONNECTION_FILE", help="only answer, with iopub, on this connection file's ports")
    a = ap.parse_args()
    if a.serve:
        conn = json.load(open(a.serve))
        KEY = conn["key"].encode()
        responder([conn[c + "_port"] for c in ("shell", "iopub", "stdin", "control", "hb")], True)
        return
    from jupyter_client import BlockingKernelClient
    from jupyter_client.session import Session

    ports = free_ports(5)
    p = mp.Process(target=responder, args=(ports, a.iopub), daemon=True)
    p.start()
    conn = dict(transport="tcp", ip="127.0.0.1", shell_port=ports[0], iopub_port=ports[1], stdin_port=ports[2],
                control_port=ports[3], hb_port=ports[4], key=KEY.decode(), signature_scheme="hmac-sha256")
    with tempfile.TemporaryDirectory() as d:
        cf = os.path.join(d, "floor.json")
        with open(cf, "w") as f:
            json.dump(conn, f)
        kc = BlockingKernelClient(connection_file=cf)
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=30)
        for _ in range(50):
            kc.execute("1 + 1", reply=True)
        times = []
        for _ in range(a.cells):
            t0 = time.perf_counter()
            mid = kc.execute("1 + 1")
            while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != mid:
                pass
            times.append(time.perf_counter() - t0)
        stats("client: BlockingKernelClient execute + get_shell_msg", times)
        kc.stop_channels()

        sess = Session(key=KEY)
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.linger = 0
        s.connect(f"tcp://127.0.0.1:{ports[0]}")
        content = dict(code="1 + 1", silent=False, store_history=True, user_expressions={}, allow_stdin=True, stop_on_error=True)
        for _ in range(50):
            sess.send(s, "execute_request", content)
            sess.recv(s, mode=0)
        times = []
        for _ in range(a.cells):
            t0 = time.perf_counter()
            mid = sess.send(s, "execute_request", content)["header"]["msg_id"]
            while sess.recv(s, mode=0)[1]["parent_header"].get("msg_id") != mid:
                pass
            times.append(time.perf_counter() - t0)
        stats("session: Session.send + Session.recv, blocking DEALER", times)
        times = []
        for _ in range(a.cells):
            t0 = time.perf_counter()
            sess.send(s, "execute_request", content)
            s.recv_multipart()
            times.append(time.perf_counter() - t0)
        stats("raw: Session.send + recv_multipart", times)
        s.close()
    p.terminate()


if __name__ == "__main__":
    main()
