#!/usr/bin/env python3
"""A tiny LLM server for tests/cli/test-benchllm.py: Ollama's POST /api/generate and GET
/api/version, the OpenAI-compatible POST /v1/completions and GET /v1/models, on 127.0.0.1.

Usage: llmserver.py [--port N] [--first-ms MS] [--token-ms MS] [--only ollama|openai|none]
Prints the port on stdout's first line, then serves until killed.

Timing is deterministic within the sleep precision: MS before the first token, MS between
tokens; Ollama's final object reports eval_duration = tokens * token-ms exactly, so its
tokens/s is 1000 / token-ms. Generates exactly options.num_predict / max_tokens tokens.

Models: "test-model" behaves; "never" accepts and never answers; "garbage" answers 200 with a
body that is not JSON; "http500" answers 500; "stall" sends one token, then nothing; "cutoff"
stops before the end object; "nousage" (OpenAI) sends no usage chunk. Any other model: 404
as each API does. GET /_requests returns the POST bodies received so far."""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN = {"test-model", "never", "garbage", "http500", "stall", "cutoff", "nousage"}
FOREVER = threading.Event()     # never set: what "never" and "stall" wait on
requests = []
lock = threading.Lock()
opts = None
loads = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    server_version = "llmserver/1"

    def setup(self):
        super().setup()
        # each token goes out at once: no Nagle delay against delayed ACKs
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_text(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def allowed(self, api):
        return opts.only in ("both", api)

    def do_GET(self):
        if self.path == "/api/version" and self.allowed("ollama"):
            return self.send_json(200, {"version": "0.0.0-llmserver"})
        if self.path == "/v1/models" and self.allowed("openai"):
            return self.send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in
                                                                    sorted(KNOWN)]})
        if self.path == "/_requests":
            with lock:
                return self.send_json(200, requests)
        return self.send_text(404, "404 page not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": "invalid JSON in the request"})
        with lock:
            requests.append({"path": self.path, "body": req})
        if self.path == "/api/generate" and self.allowed("ollama"):
            return self.ollama(req)
        if self.path == "/v1/completions" and self.allowed("openai"):
            return self.openai(req)
        return self.send_text(404, "404 page not found")

    def misbehave(self, model, notfound):
        """Answers for the bad models; True when it answered."""
        if model not in KNOWN:
            self.send_json(404, notfound)
            return True
        if model == "never":
            FOREVER.wait()
            return True
        if model == "garbage":
            self.send_text(200, "<html><body>this is not JSON</body></html>\n")
            return True
        if model == "http500":
            self.send_text(500, "Internal Server Error: the GPU fell off the bus\n")
            return True
        return False

    def start_stream(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.end_headers()        # HTTP/1.0: the body ends when the connection closes

    def put(self, text):
        self.wfile.write(text.encode())
        self.wfile.flush()

    def tokens(self, count):
        """Yields the token pieces, sleeping first-ms before the first, token-ms between."""
        time.sleep(opts.first_ms / 1000)
        for i in range(count):
            if i:
                time.sleep(opts.token_ms / 1000)
            yield "w%d " % i

    def ollama(self, req):
        model = req.get("model", "")
        if self.misbehave(model, {"error": 'model "%s" not found, try pulling it first' % model}):
            return
        count = int(req.get("options", {}).get("num_predict", 16))
        prompt_tokens = len(str(req.get("prompt", "")).split())
        loads["n"] += 1
        load_ns = 500_000_000 if loads["n"] == 1 else 1_000_000
        final = {"model": model, "created_at": "2024-01-01T00:00:00Z", "response": "", "done": True,
                 "done_reason": "length", "context": [1, 2, 3],
                 "total_duration": load_ns + (opts.first_ms + count * opts.token_ms) * 1_000_000,
                 "load_duration": load_ns, "prompt_eval_count": prompt_tokens,
                 "prompt_eval_duration": opts.first_ms * 1_000_000,
                 "eval_count": count, "eval_duration": count * opts.token_ms * 1_000_000}
        if req.get("stream") is False:
            final["response"] = "".join(self.tokens(count))
            return self.send_json(200, final)
        self.start_stream("application/x-ndjson")
        for i, piece in enumerate(self.tokens(count)):
            self.put(json.dumps({"model": model, "created_at": "2024-01-01T00:00:00Z", "response": piece,
                                 "done": False}) + "\n")
            if model == "stall":
                FOREVER.wait()
            if model == "cutoff" and i == count // 2:
                return
        self.put(json.dumps(final) + "\n")

    def openai(self, req):
        model = req.get("model", "")
        if self.misbehave(model, {"error": {"message": "The model `%s` does not exist." % model,
                                            "type": "NotFoundError", "param": None, "code": 404}}):
            return
        count = int(req.get("max_tokens", 16))
        usage = {"prompt_tokens": len(str(req.get("prompt", "")).split()), "completion_tokens": count,
                 "total_tokens": 0}
        usage["total_tokens"] = usage["prompt_tokens"] + count
        base = {"id": "cmpl-llmserver", "object": "text_completion", "created": 1700000000, "model": model}
        if not req.get("stream"):
            return self.send_json(200, dict(base, choices=[{"index": 0, "text": "".join(self.tokens(count)),
                                                            "finish_reason": "length"}], usage=usage))
        self.start_stream("text/event-stream")
        self.put(": llmserver\n\n")
        for i, piece in enumerate(self.tokens(count)):
            chunk = dict(base, choices=[{"index": 0, "text": piece, "logprobs": None,
                                         "finish_reason": "length" if i == count - 1 else None}])
            self.put("data: " + json.dumps(chunk) + "\n\n")
            if model == "stall":
                FOREVER.wait()
            if model == "cutoff" and i == count // 2:
                return
        if req.get("stream_options", {}).get("include_usage") and model != "nousage":
            self.put("data: " + json.dumps(dict(base, choices=[], usage=usage)) + "\n\n")
        self.put("data: [DONE]\n\n")


def main():
    global opts
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--first-ms", type=int, default=20)
    ap.add_argument("--token-ms", type=int, default=5)
    ap.add_argument("--only", choices=["both", "ollama", "openai", "none"], default="both")
    opts = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
