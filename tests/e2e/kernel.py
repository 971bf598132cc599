"""Run code in a notebook kernel of a running workspace, through the hub's proxy, as a
student's browser would: start a kernel with the REST API, send `execute_request` on its
WebSocket channels, collect what the cell prints."""

import json
import uuid

import httpx
from websocket import create_connection


def run_cell(hub_url: str, username: str, token: str, code: str, timeout: float = 60) -> str:
    """stdout of `code` run in a new kernel of `username`'s default server; raises with
    the traceback if the cell fails."""
    base = f"{hub_url}/user/{username}"
    headers = {"Authorization": f"token {token}"}
    kernel = httpx.post(f"{base}/api/kernels", headers=headers, json={}, timeout=timeout)
    kernel.raise_for_status()
    kernel_id = kernel.json()["id"]
    ws_url = base.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels"
    socket = create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
    try:
        msg_id = uuid.uuid4().hex
        socket.send(json.dumps(execute_request(msg_id, code)))
        out: list[str] = []
        while True:
            message = json.loads(socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content.get("traceback", [])))
            elif kind == "status" and content.get("execution_state") == "idle":
                return "".join(out)
    finally:
        socket.close()
        httpx.delete(f"{base}/api/kernels/{kernel_id}", headers=headers, timeout=timeout)


def execute_request(msg_id: str, code: str) -> dict:
    return {
        "header": {
            "msg_id": msg_id,
            "username": "test",
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }
