#!/usr/bin/env python3
"""A tiny OpenAI-compatible streaming server for peers such as GuideLLM (stdlib only).

    python3 openai_standin.py [--port 0] [--model NAME] [--ttft-ms 20] [--itl-ms 2]

Prints "listening on http://127.0.0.1:PORT" when ready. Serves GET /health,
GET /v1/models, POST /v1/completions and /v1/chat/completions (streaming as
vLLM does: SSE chunks, an optional usage chunk, [DONE]; or one JSON answer).
Every request gets `max_tokens`/`max_completion_tokens` tokens after a fixed
TTFT and ITL. Prompt tokens are counted as words (usage is what peers read).
It stands in until tests can use `llmsweep mock-server` for the same job.
"""
import argparse
import itertools
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(model, ttft, itl):
    ids = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_json(self, code, obj):
            body = json.dumps(obj).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up on this request

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def event(self, obj):
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            self.chunk(b"data: " + data + b"\n\n")

        def do_GET(self):
            path = self.path.split("?")[0].rstrip("/")
            if path == "/health":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/v1/models":
                self.send_json(200, {"object": "list", "data": [
                    {"id": model, "object": "model", "created": int(time.time()),
                     "owned_by": "standin", "root": model, "max_model_len": 8192}]})
            else:
                self.send_json(404, {"error": {"message": "not found"}})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path.split("?")[0].rstrip("/")
            if path not in ("/v1/completions", "/v1/chat/completions"):
                return self.send_json(404, {"error": {"message": "not found"}})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(400, {"error": {"message": "body is not JSON"}})
            chat = path.endswith("chat/completions")
            n_out = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
            if chat:
                text = " ".join(m["content"] if isinstance(m.get("content"), str) else
                                " ".join(p.get("text", "") for p in m.get("content") or [])
                                for m in body.get("messages", []))
            else:
                prompt = body.get("prompt", "")
                text = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
            n_in = len(text.split())
            rid = f"{'chatcmpl' if chat else 'cmpl'}-{next(ids)}"
            kind = "chat.completion.chunk" if chat else "text_completion"
            options = body.get("stream_options") or {}

            def usage(k):
                return {"prompt_tokens": n_in, "completion_tokens": k, "total_tokens": n_in + k}

            def piece(i, finish):
                if chat:
                    return {"index": 0, "delta": {"content": f" t{i}"}, "finish_reason": finish}
                return {"index": 0, "text": f" t{i}", "finish_reason": finish}

            if not body.get("stream"):
                time.sleep(ttft + itl * (n_out - 1))
                words = "".join(f" t{i}" for i in range(n_out))
                choice = ({"index": 0, "message": {"role": "assistant", "content": words},
                           "finish_reason": "length"} if chat else
                          {"index": 0, "text": words, "finish_reason": "length"})
                return self.send_json(200, {"id": rid, "object": kind, "model": model,
                                            "choices": [choice], "usage": usage(n_out)})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                deadline = time.perf_counter() + ttft
                for i in range(n_out):
                    time.sleep(max(0.0, deadline - time.perf_counter()))
                    deadline += itl
                    ev = {"id": rid, "object": kind, "model": model,
                          "choices": [piece(i, "length" if i == n_out - 1 else None)]}
                    if options.get("continuous_usage_stats"):
                        ev["usage"] = usage(i + 1)
                    self.event(ev)
                if options.get("include_usage"):
                    self.event({"id": rid, "object": kind, "model": model, "choices": [],
                                "usage": usage(n_out)})
                self.event(b"[DONE]")
                self.chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model", default="standin-model")
    ap.add_argument("--ttft-ms", type=float, default=20)
    ap.add_argument("--itl-ms", type=float, default=2)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(args.model, args.ttft_ms / 1e3, args.itl_ms / 1e3))
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
