"""A batch-friendly model server stand-in for scripts/bench: TF Serving REST, one model, whose every call costs a
fixed 2 ms plus 20 us per row (COST_MS and ROW_US), one call at a time, as a GPU serving one batch after another.
Batching pays off against it exactly as it does against such a model server: N rows in one call cost 2 ms + N x 20 us
instead of N x 2 ms.

  python3 slow_backend.py PORT [COST_MS ROW_US]

POST /v1/models/m:predict takes a columnar ({"inputs": [[...], ...]} or {"inputs": {"x": [[...]]}}) or row
({"instances": [[...]]}) request and answers {"outputs": [[...]]}, each row's values times ten;
GET /v1/models/m/metadata answers a signature with one FP32 input x [-1, -1] and one output y.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COST_S = (float(sys.argv[2]) if len(sys.argv) > 2 else 2.0) / 1000
ROW_S = (float(sys.argv[3]) if len(sys.argv) > 3 else 20.0) / 1e6
DEVICE = threading.Lock()  # one call at a time: the model's device
METADATA = json.dumps({
    "model_spec": {"name": "m", "signature_name": "", "version": "1"},
    "metadata": {"signature_def": {"signature_def": {"serving_default": {
        "inputs": {"x": {"dtype": "DT_FLOAT", "name": "x:0",
                         "tensor_shape": {"dim": [{"size": "-1"}, {"size": "-1"}]}}},
        "outputs": {"y": {"dtype": "DT_FLOAT", "name": "y:0",
                          "tensor_shape": {"dim": [{"size": "-1"}, {"size": "-1"}]}}},
        "method_name": "tensorflow/serving/predict"}}}}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Status line, headers and body in one write, sent at once: otherwise Nagle's algorithm holds the body back until
    # the client's delayed ACK, 40 ms per call.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v1/models/m/metadata":
            self.answer(200, METADATA)
        else:
            self.answer(200 if self.path in ("/", "/v1/models/m") else 404, b'{"model_version_status":[]}')

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        rows = request.get("instances", request.get("inputs"))
        if isinstance(rows, dict):
            rows = next(iter(rows.values()))
        with DEVICE:
            time.sleep(COST_S + ROW_S * len(rows))
        self.answer(200, json.dumps({"outputs": [[v * 10 for v in row] for row in rows]}).encode())


if __name__ == "__main__":
    ThreadingHTTPServer.request_queue_size = 1024  # the gateway opens up to its max-connections at once
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
