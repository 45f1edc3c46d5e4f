#!/usr/bin/env python3
"""An independent HTTP server (standard library only) with one misbehaviour per path prefix,
for the upstream failure tests. Prints its port on the first line of stdout.

  /ok/...         valid UPSTREAMS.md JSON for features, coupons and stats (a tiny user)
  /slow/...       answers after 10 s
  /status500/...  HTTP 500
  /malformed/...  200 with a body that is not JSON
  /huge/...       200 with a 5 MiB body
  /drop/...       promises 100000 bytes, sends 10, closes the connection
  /flaky/...      like /ok or /status500, switched by GET /control/ok and /control/fail
"""
import http.server
import json
import socketserver
import sys
import time

MODE = {"flaky": "fail"}


def ok_body(path):
    easy_id = path.split("/")[4] if len(path.split("/")) > 4 else "x"
    if path.endswith("/features"):
        return {"easy_id": easy_id, "numeric": {"age": 30}, "categorical": {"segment": "vip"}}
    if path.endswith("/coupons"):
        return {"easy_id": easy_id, "coupons": [
            {"id": "C1", "name": "one", "category": "books", "shop": "s1", "discount_rate": 0.1,
             "min_spend": 0, "days_to_expiry": 3},
            {"id": "C2", "name": "two", "category": "pets", "shop": "s2", "discount_rate": 0.5,
             "min_spend": 1000, "days_to_expiry": 9}]}
    return {"easy_id": easy_id, "stats": [{"coupon_id": "C1", "ctr": 0.1, "cvr": 0.01}]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        kind = self.path.split("/")[1]
        if kind == "control":
            MODE["flaky"] = self.path.split("/")[2]
            return self.send_json(200, {"flaky": MODE["flaky"]})
        if kind == "flaky":
            kind = "ok" if MODE["flaky"] == "ok" else "status500"
        if kind == "ok":
            return self.send_json(200, ok_body(self.path))
        if kind == "slow":
            time.sleep(10)
            return self.send_json(200, ok_body(self.path))
        if kind == "status500":
            return self.send_json(500, {"error": "boom"})
        if kind == "malformed":
            return self.send_json(200, b"{this is not json")
        if kind == "huge":
            return self.send_json(200, b"[" + b"1," * (5 << 19) + b"1]")
        if kind == "drop":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'{"easy_id"')
            self.wfile.flush()
            self.connection.shutdown(2)
            self.close_connection = True
            return
        self.send_json(404, {"error": "unknown"})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    deadline = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 300)
    server.timeout = 0.5
    while time.time() < deadline:  # stops by itself
        server.handle_request()
