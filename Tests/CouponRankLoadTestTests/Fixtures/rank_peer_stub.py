#!/usr/bin/env python3
"""A real HTTP server (stdlib) that answers the peer contract of loadtest/peers/README.md.

GET /v1/rank/{easy_id}?top_k=K: easy_ids ending in 7 get 503, those ending in 3 a degraded
answer, the rest a full one. Prints its port, then serves until killed or for argv[1] seconds.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = self.path.split("?")[0]
        if not path.startswith("/v1/rank/"):
            return self.answer(404, {"error": "not found"})
        easy_id = path.rsplit("/", 1)[1]
        if easy_id.endswith("7"):
            return self.answer(503, {"error": "overloaded"})
        degraded = ["stats"] if easy_id.endswith("3") else []
        self.answer(200, {"easy_id": easy_id, "coupons": [{"id": "C000001", "score": 0.1}], "degraded": degraded,
                          "timings_us": {"fetch": 10, "context": 20, "score": 30, "total": 70}})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.request_queue_size = 256  # the default backlog of 5 drops connections under load
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(float(sys.argv[1]) if len(sys.argv) > 1 else 60, server.shutdown).start()
server.serve_forever()
