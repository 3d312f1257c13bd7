"""End-to-end tests of goinv through jupyter_client: the items of issue 2 that the
official suite does not cover."""
import json
import os
import queue
import subprocess
import time

import pytest
import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

TIMEOUT = 60


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name="goinv", startup_timeout=60)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code, timeout=TIMEOUT, **kw):
    """Execute code; return (reply content, list of iopub messages for it)."""
    mid = kc.execute(code, **kw)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != mid:
        reply = kc.get_shell_msg(timeout=timeout)
    out = []
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != mid:
            continue
        out.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    return reply["content"], out


def stdout(msgs, name="stdout"):
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == name)


def test_kernel_info_and_version(kernel):
    km, kc = kernel
    kc.kernel_info()
    r = kc.get_shell_msg(timeout=TIMEOUT)
    assert r["header"]["version"] >= "5.3"
    li = r["content"]["language_info"]
    assert li["name"] == "go" and li["mimetype"] == "text/x-go" and li["file_extension"] == ".go"
    assert r["content"]["implementation"] == "goinv"


def test_execute_count_and_result(kernel):
    _, kc = kernel
    c, msgs = run(kc, "x := 20\nx + 22")
    assert c["status"] == "ok"
    res = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert res and res[0]["content"]["data"]["text/plain"] == "42"
    assert any(m["msg_type"] == "execute_input" for m in msgs)
    c2, msgs = run(kc, "x", silent=True)
    assert c2["status"] == "ok" and not [m for m in msgs if m["msg_type"] == "execute_result"]
    c3, _ = run(kc, "x", user_expressions={"y": "x * 2"})
    assert c3["execution_count"] == c["execution_count"] + 1
    assert c3["user_expressions"]["y"]["data"]["text/plain"] == "40"


def test_stop_on_error_aborts_queue(kernel):
    _, kc = kernel
    # The first cell runs long enough that the other two are sent while it runs, even
    # on a loaded machine: stop_on_error aborts what was sent before the error, not
    # what a slow client sends after it (as ipykernel).
    ids = [kc.execute('import "time"\ntime.Sleep(500 * time.Millisecond)\npanic("first")'), kc.execute("1"), kc.execute("2")]
    replies = {}
    while len(replies) < 3:
        r = kc.get_shell_msg(timeout=TIMEOUT)
        replies[r["parent_header"]["msg_id"]] = r["content"]["status"]
    assert [replies[i] for i in ids] == ["error", "aborted", "aborted"]
    c, _ = run(kc, "3")
    assert c["status"] == "ok"


_control = {}


def control_request(kc, msg_type, content=None, timeout=5):
    """Send msg_type on a (kept, warmed-up) control connection; return (reply, seconds)."""
    sock = _control.get(id(kc))
    if sock is None:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(f"{kc.transport}://{kc.ip}:{kc.control_port}")
        _control[id(kc)] = sock
        if msg_type != "kernel_info_request":
            control_request(kc, "kernel_info_request")
    msg = kc.session.msg(msg_type, content or {})
    t0 = time.perf_counter()
    kc.session.send(sock, msg)
    assert sock.poll(timeout * 1000), "no reply on control"
    _, reply = kc.session.recv(sock)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    return reply, time.perf_counter() - t0


def get_reply(kc, mid, timeout=TIMEOUT):
    while True:
        r = kc.get_shell_msg(timeout=timeout)
        if r["parent_header"].get("msg_id") == mid:
            return r


def test_interrupt_keeps_variables(kernel):
    km, kc = kernel
    run(kc, "kept := 7")
    mid = kc.execute("for {}")
    time.sleep(1.0)
    t0 = time.perf_counter()
    r, dt_ctl = control_request(kc, "interrupt_request")
    assert r["msg_type"] == "interrupt_reply"
    r = get_reply(kc, mid)
    dt = time.perf_counter() - t0
    assert r["parent_header"]["msg_id"] == mid
    assert r["content"]["status"] == "error"
    print(f"\ninterrupt: interrupt_reply on control {dt_ctl * 1000:.2f} ms, execute_reply {dt * 1000:.2f} ms after interrupt_request")
    assert dt < 1.0  # goal 50 ms; this shared 2-core machine runs at load 13+
    c, msgs = run(kc, "kept")
    assert c["status"] == "ok"
    assert [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "7"


def test_sigint_interrupts(kernel):
    km, kc = kernel
    mid = kc.execute("for {}")
    time.sleep(0.5)
    km.signal_kernel(2)
    r = get_reply(kc, mid, timeout=10)
    assert r["parent_header"]["msg_id"] == mid and r["content"]["status"] == "error"


def test_control_responsive_while_running(kernel):
    _, kc = kernel
    kc.execute("for {}")
    time.sleep(0.3)
    r, dt = control_request(kc, "kernel_info_request")
    assert r["msg_type"] == "kernel_info_reply"
    control_request(kc, "interrupt_request")
    kc.get_shell_msg(timeout=TIMEOUT)


@pytest.mark.parametrize("code,what,says", [
    ('go func() { panic("in goroutine") }()\nselect {}', "goroutine panic", "panic: in goroutine"),
    ("os.Exit(3)", "os.Exit", "exit status 3"),
    ("var f func(int) int\nf = func(n int) int { return f(n+1) + 1 }\nf(0)", "stack overflow",
     "fatal error: stack overflow"),
])
def test_crash_isolation(kernel, code, what, says):
    _, kc = kernel
    run(kc, "lost := 1")
    c, _ = run(kc, 'import "os"\n' + code if "os." in code else code)
    assert c["status"] == "error", what
    assert c["ename"] == "SessionLost", c
    assert "variables were lost" in c["evalue"]
    assert says in c["evalue"], c["evalue"]  # what killed the session, even after a long trace
    c, msgs = run(kc, "1 + 2")
    assert c["status"] == "ok"
    c, _ = run(kc, "lost")
    assert c["status"] == "error"  # a fresh session


def test_forged_signature_dropped(kernel):
    km, kc = kernel
    bad = Session(key=b"not-the-key", session=kc.session.session)
    msg = bad.msg("execute_request", {"code": 'fmt.Println("forged")', "silent": False, "store_history": True,
                                      "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    bad.send(kc.shell_channel.socket, msg)
    with pytest.raises(queue.Empty):
        kc.get_shell_msg(timeout=1.5)
    c, _ = run(kc, "1")
    assert c["status"] == "ok"


def test_two_frontends_get_their_own_replies(kernel):
    """Two frontends on one kernel (a notebook and `jupyter console --existing`, two
    browser tabs): each gets the replies to its own requests and no others. Two
    jupyter_client clients (they name their sockets after their session) and two raw
    pyzmq DEALERs that set no identity, which the kernel's ROUTER must tell apart."""
    km, kc = kernel
    # A frontend of its own has a session of its own (km.client() would share kc's).
    other = km.client(session=Session(key=km.session.key, signature_scheme=km.session.signature_scheme))
    other.start_channels()
    ctx = zmq.Context.instance()
    conn = km.get_connection_info()
    url = f"{conn['transport']}://{conn['ip']}:{conn['shell_port']}"
    raws = []
    for _ in range(2):
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(url)
        raws.append(sock)
    try:
        time.sleep(0.2)  # the raw sockets' handshakes
        for round in range(3):
            mids = [kc.kernel_info(), other.kernel_info()]
            for sock in raws:
                msg = kc.session.msg("kernel_info_request", {})
                kc.session.send(sock, msg)
                mids.append(msg["header"]["msg_id"])
            for i, c in enumerate((kc, other)):
                r = c.get_shell_msg(timeout=TIMEOUT)
                assert r["parent_header"]["msg_id"] == mids[i], f"client {i} got the reply to another's request"
            for i, sock in enumerate(raws):
                assert sock.poll(TIMEOUT * 1000), f"raw DEALER {i} got no reply"
                _, r = kc.session.recv(sock)
                assert r["parent_header"]["msg_id"] == mids[2 + i], f"raw DEALER {i} got the reply to another's request"
        for c in (kc, other):
            with pytest.raises(queue.Empty):
                c.get_shell_msg(timeout=0.3)
        for i, sock in enumerate(raws):
            assert not sock.poll(300), f"raw DEALER {i} got a reply it did not ask for"
    finally:
        for sock in raws:
            sock.close()
        other.stop_channels()


def test_stdin(kernel):
    _, kc = kernel
    mid = kc.execute('import "bufio"\nline, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\nfmt.Println("got", line)',
                     allow_stdin=True)
    req = kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["msg_type"] == "input_request"
    kc.input("hello")
    r = kc.get_shell_msg(timeout=TIMEOUT)
    assert r["parent_header"]["msg_id"] == mid and r["content"]["status"] == "ok", r["content"]
    text = ""
    while "got" not in text:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["msg_type"] == "stream":
            text += m["content"]["text"]
    assert "got hello" in text


def test_large_output(kernel):
    _, kc = kernel
    t0 = time.perf_counter()
    c, msgs = run(kc, 'import "strings"\nfor i := 0; i < 50000; i++ { fmt.Println(strings.Repeat("é", 49)) }')
    dt = time.perf_counter() - t0
    assert c["status"] == "ok"
    text = stdout(msgs)
    assert len(text.encode()) == 50000 * 99
    assert "\ufffd" not in text
    print(f"\n5 MB output: {dt:.2f} s in {len([m for m in msgs if m['msg_type'] == 'stream'])} stream messages")


def test_streams_in_order(kernel):
    _, kc = kernel
    c, msgs = run(kc, 'fmt.Println("a")\nos.Stdout.WriteString("b\\n")\nprintln("c")\ndisplay.HTML("<i>d</i>")\nfmt.Println("e")')
    kinds = [(m["msg_type"], m["content"].get("text", "")) for m in msgs if m["msg_type"] in ("stream", "display_data")]
    flat = "".join(t if k == "stream" else "[D]" for k, t in kinds)
    # Output written before a display precedes it, output written after it follows.
    assert flat.index("a") < flat.index("b") < flat.index("c") < flat.index("[D]") < flat.index("e")


def outputs_in_order(msgs):
    """The cell's stream lines and displays as one sequence of tokens, in arrival order."""
    seq = []
    for m in msgs:
        if m["msg_type"] == "stream":
            seq += m["content"]["text"].splitlines()
        elif m["msg_type"] == "display_data":
            d = m["content"]["data"]
            seq.append(d.get("text/markdown") or d.get("text/html"))
    return seq


@pytest.mark.parametrize("code,want", [
    ('display.Markdown("A"); fmt.Println("B"); display.Markdown("C")', ["A", "B", "C"]),
    ('fmt.Println("B"); display.HTML("x")', ["B", "x"]),
    ('display.HTML("x"); os.Stdout.WriteString("y\\n"); fmt.Fprintln(os.Stderr, "z")', ["x", "y", "z"]),
])
def test_display_and_print_order(kernel, code, want):
    # Displays travel on the event pipe, text on fd 1/2: the supervisor must keep the
    # order the cell produced them in, every time.
    _, kc = kernel
    for i in range(50):
        c, msgs = run(kc, code)
        assert c["status"] == "ok", c
        assert outputs_in_order(msgs) == want, f"run {i}: {outputs_in_order(msgs)}"


def test_display_and_print_order_in_loop(kernel):
    _, kc = kernel
    c, msgs = run(kc, 'for i := 0; i < 200; i++ {\n\tdisplay.Markdown(fmt.Sprint("D", i))\n\tfmt.Println("P", i)\n}')
    assert c["status"] == "ok", c
    want = [t for i in range(200) for t in (f"D{i}", f"P {i}")]
    assert outputs_in_order(msgs) == want


def test_comms(kernel):
    _, kc = kernel
    kc.comm_info()
    r = kc.get_shell_msg(timeout=TIMEOUT)
    assert r["msg_type"] == "comm_info_reply" and r["content"]["status"] == "ok"
    msg = kc.session.msg("comm_open", {"comm_id": "c1", "target_name": "nope", "data": {}})
    kc.shell_channel.send(msg)
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["msg_type"] == "comm_close":
            assert m["content"]["comm_id"] == "c1"
            break


def test_history_across_restart(kernel):
    km, kc = kernel
    run(kc, 'marker := "history-across-restart"')
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    mid = kc.history(hist_access_type="search", pattern="*history-across-restart*", output=False, raw=True)
    r = kc.get_shell_msg(timeout=TIMEOUT)
    assert any("history-across-restart" in h[2] for h in r["content"]["history"])
    c, _ = run(kc, "marker")
    assert c["status"] == "error"  # restarted: variables gone


def test_ipc_transport(tmp_path):
    from jupyter_client.manager import KernelManager
    km = KernelManager(kernel_name="goinv", transport="ipc", ip=str(tmp_path / "k"))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        c, msgs = run(kc, "6 * 7")
        assert c["status"] == "ok"
        assert list(tmp_path.glob("k-*"))
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_shutdown_exits(kernel):
    km, kc = kernel
    kc.shutdown()
    r = kc.get_control_msg(timeout=TIMEOUT) if hasattr(kc, "get_control_msg") else None
    for _ in range(100):
        if not km.is_alive():
            break
        time.sleep(0.05)
    assert not km.is_alive()


def test_unsupported_signature_scheme(tmp_path):
    spec = json.load(open(os.path.join(os.environ["GOINV_SPEC"], "kernel.json")))
    cf = tmp_path / "c.json"
    cf.write_text(json.dumps({"transport": "tcp", "ip": "127.0.0.1", "shell_port": 0, "control_port": 0, "stdin_port": 0,
                              "iopub_port": 0, "hb_port": 0, "key": "k", "signature_scheme": "hmac-md5"}))
    argv = [a.replace("{connection_file}", str(cf)) for a in spec["argv"]]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert p.returncode != 0 and "signature_scheme" in p.stderr


def test_panic_traceback_points_into_cell(kernel):
    """A panic's traceback names the line and column of the panicking statement,
    then the calls that led there, down to the cell's own line (issue 2, item 4)."""
    _, kc = kernel
    c, msgs = run(kc, "var s []int\nx := 3\n_ = x\nfmt.Println(s[5])")
    assert c["status"] == "error" and c["ename"] == "RuntimeError", c
    tb = "\n".join(c["traceback"])
    assert "at line 4, column 1 of this cell" in tb and "   4 | fmt.Println(s[5])" in tb, tb
    errs = [m for m in msgs if m["msg_type"] == "error"]
    assert errs and errs[0]["content"]["traceback"] == c["traceback"]
    c, _ = run(kc, "y := 1\n_ = y\npanic(\"boom\")")
    assert c["ename"] == "Panic" and c["evalue"] == "boom"
    assert "at line 3, column 1 of this cell" in "\n".join(c["traceback"]), c["traceback"]
    c, _ = run(kc, "var m map[string]int\nif true {\n\tm[\"a\"] = 1\n}")
    assert "at line 3, column 2 of this cell" in "\n".join(c["traceback"]), c["traceback"]
    # A func defined in an earlier cell: its cell and line, then the caller's line.
    c, _ = run(kc, "func at(xs []int, i int) int {\n\tj := i * 2\n\treturn xs[j]\n}")
    assert c["status"] == "ok", c
    n = c["execution_count"]
    c, _ = run(kc, "xs := []int{1, 2, 3}\n_ = xs\nat(xs, 5)")
    tb = "\n".join(c["traceback"])
    assert f"in at, line 3, column 2 of cell [{n}]" in tb and "return xs[j]" in tb, tb
    assert tb.index(f"cell [{n}]") < tb.index("at line 3, column 1 of this cell"), tb
    # Compiled code is named, with the cell line that called it.
    c, _ = run(kc, "k := -1\n_ = k\nstrings.Repeat(\"ab\", k)")
    tb = "\n".join(c["traceback"])
    assert "in strings.Repeat (compiled" in tb and "at line 3, column 1 of this cell" in tb, tb
    c, _ = run(kc, "x + y")
    assert c["status"] == "ok"


def test_method_redefinition(kernel):
    """Redefining a method alone changes what later calls run, also on values made
    before; a new signature is refused with the reason."""
    _, kc = kernel
    c, _ = run(kc, "type Point struct{ X, Y float64 }\nfunc (p Point) Norm() float64 { return p.X + p.Y }\np := Point{3, 4}")
    assert c["status"] == "ok", c
    c, msgs = run(kc, "p.Norm()")
    assert [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"] == ["7"]
    c, msgs = run(kc, "func (p Point) Norm() float64 { return math.Sqrt(p.X*p.X + p.Y*p.Y) }")
    assert c["status"] == "ok" and not stdout(msgs, "stderr"), (c, msgs)
    c, msgs = run(kc, "p.Norm() + Point{6, 8}.Norm()")
    assert [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"] == ["15"]
    c, _ = run(kc, "func (p Point) Norm(k float64) float64 { return k }")
    assert c["status"] == "error" and c["ename"] == "CompileError", c
    assert "cannot change its signature" in c["evalue"] and "declare type Point again" in c["evalue"], c


def test_interrupt_names_running_line(kernel):
    """An interrupted cell's traceback shows the top-level statement that was running."""
    _, kc = kernel
    mid = kc.execute("n := 0\nfor i := 0; i < 3; i++ {\n\tn += i\n}\nfor {\n\tn++\n}")
    time.sleep(0.5)
    r, _ = control_request(kc, "interrupt_request")
    assert r["msg_type"] == "interrupt_reply"
    c = get_reply(kc, mid)["content"]
    assert c["ename"] == "Interrupted", c
    tb = "\n".join(c["traceback"])
    assert "at line 5, column 1 of this cell" in tb and "   5 | for {" in tb, tb


def test_complete_and_inspect_members(kernel):
    """Tab after a dot lists the fields and methods of what comes before it, cell
    types included; cursor positions count code points; Shift-Tab inside a call's
    parentheses shows the func called, and on a field its type and value."""
    _, kc = kernel
    content, _ = run(kc, 'type P struct{ Name string; age int }\n'
                         '// Hello greets.\nfunc (p P) Hello() string { return "hi " + p.Name }\n'
                         'ps := []P{{"a", 3}}')
    assert content["status"] == "ok", content
    code = 'é := ps[0].'
    r = kc.complete(code, len(code), reply=True, timeout=TIMEOUT)["content"]
    assert r["matches"] == ["Hello", "Name", "age"], r
    assert (r["cursor_start"], r["cursor_end"]) == (len(code), len(code)), r
    code = 'for _, v := range ps {\n\tv.He'
    r = kc.complete(code, len(code), reply=True, timeout=TIMEOUT)["content"]
    assert r["matches"] == ["Hello"], r
    code = 'strings.Split(ps[0].Name, '
    r = kc.inspect(code, len(code), reply=True, timeout=TIMEOUT)["content"]
    assert r["found"] and "func Split(s, sep string) []string" in r["data"]["text/plain"], r
    code = 'ps[0].age'
    r = kc.inspect(code, len(code), reply=True, timeout=TIMEOUT)["content"]
    assert r["found"] and r["data"]["text/plain"] == "field age int = 3", r
