#!/usr/bin/python3
"""jupyter-client.py CMD PORT TOKEN ...: REST and kernel-websocket calls to 127.0.0.1:PORT.
TOKEN '-' sends no token. Every call has a timeout. JC_BASE_PATH (such as
/user/NAME, for a server behind JupyterHub's proxy) goes before every path.
Used by test-jupyter.sh and test-jupyterhub.sh."""
import json, os, sys, time, urllib.error, urllib.request, uuid

import websocket

cmd, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prefix = os.environ.get("JC_BASE_PATH", "")
base = f"http://127.0.0.1:{port}{prefix}"
headers = {} if token == "-" else {"Authorization": f"token {token}"}


def request(method, path, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=dict(headers))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def execute(kernel_id, code, timeout):
    """Runs code in the kernel over its websocket; returns (stdout, error or None)."""
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{port}{prefix}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
        header=[f"{k}: {v}" for k, v in headers.items()], timeout=timeout, suppress_origin=True)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, error, replied, idle = [], None, False, False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete answer from the kernel within {timeout}s")
            ws.settimeout(left)
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                error = "\n".join(content.get("traceback", [])) or content.get("evalue", "error")
            elif kind == "execute_reply":
                replied = True
                if content.get("status") != "ok" and error is None:
                    error = f"execute_reply status {content.get('status')}"
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        return "".join(out), error
    finally:
        ws.close()


if cmd == "status":  # status PORT TOKEN: prints the HTTP status of GET /api/status
    try:
        print(request("GET", "/api/status", timeout=5)[0])
    except OSError as e:
        print(f"error:{e}")
elif cmd == "start-kernel":  # start-kernel PORT TOKEN: prints the new kernel's id
    status, body = request("POST", "/api/kernels", {"name": "python3"}, timeout=60)
    if status != 201:
        sys.exit(f"POST /api/kernels: {status} {body[:300]}")
    print(json.loads(body)["id"])
elif cmd == "exec":  # exec PORT TOKEN KERNEL_ID CODE_FILE TIMEOUT: prints the code's stdout
    with open(sys.argv[5]) as f:
        code = f.read()
    deadline = time.monotonic() + float(sys.argv[6])
    while True:  # a kernel that is still starting may close the first websocket
        try:
            out, error = execute(sys.argv[4], code, max(1.0, deadline - time.monotonic()))
            break
        except (websocket.WebSocketException, ConnectionError) as e:
            if time.monotonic() + 1 >= deadline:
                sys.exit(f"websocket: {e!r}")
            time.sleep(0.5)
    sys.stdout.write(out)
    if error:
        sys.exit("kernel error: " + error)
elif cmd == "delete-kernel":  # delete-kernel PORT TOKEN KERNEL_ID: prints the HTTP status
    print(request("DELETE", f"/api/kernels/{sys.argv[4]}", timeout=30)[0])
elif cmd == "shutdown":  # shutdown PORT TOKEN: asks the server to stop; prints the HTTP status
    try:
        print(request("POST", "/api/shutdown", timeout=10)[0])
    except OSError as e:
        print(f"error:{e}")
else:
    sys.exit(f"unknown command {cmd}")
