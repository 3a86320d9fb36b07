"""An HTTP/2 client written with hyper-h2 (Debian's python3-h2), which shows the frames a Java client hides: it
opens one TLS connection (ALPN h2, the test's self-signed certificate not checked), sends POST /v1/models/m:predict
on stream 1, prints "sent", waits for a line on stdin (the test has started the drain and released the request), then
reads until stream 1 has ended and a GOAWAY came, and prints {"status": ..., "goaway": {...}} as one JSON line.

  /usr/bin/python3 h2_drain_client.py PORT
"""
import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import hpack
import hyperframe.frame

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.set_alpn_protocols(["h2"])
sock = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20),
                           server_hostname="localhost")
if sock.selected_alpn_protocol() != "h2":
    sys.exit("the server did not choose h2: " + str(sock.selected_alpn_protocol()))
connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
connection.initiate_connection()
body = b'{"instances":[[1]]}'
connection.send_headers(1, [(":method", "POST"), (":path", "/v1/models/m:predict"), (":scheme", "https"),
                            (":authority", "localhost"), ("content-type", "application/json"),
                            ("content-length", str(len(body)))])
connection.send_data(1, body, end_stream=True)
sock.sendall(connection.data_to_send())
print("sent", flush=True)
sys.stdin.readline()

# The answer is read frame by frame with hyperframe and hpack (h2's own parts) rather than by H2Connection, whose
# state machine stops delivering frames once a GOAWAY came, though the streams it names are still answered.
decoder = hpack.Decoder()
status, ended, goaway, buffered = None, False, None, b""
while not (ended and goaway):
    data = sock.recv(65535)
    if not data:
        break
    buffered += data
    while len(buffered) >= 9:
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(buffered[:9]))
        if len(buffered) < 9 + length:
            break
        frame.parse_body(memoryview(buffered[9:9 + length]))
        buffered = buffered[9 + length:]
        if isinstance(frame, hyperframe.frame.HeadersFrame) and frame.stream_id == 1:
            status = dict(decoder.decode(frame.data)).get(":status")
        elif isinstance(frame, hyperframe.frame.GoAwayFrame):
            goaway = {"error": frame.error_code, "last_stream": frame.last_stream_id}
        if frame.stream_id == 1 and "END_STREAM" in frame.flags:
            ended = True
print(json.dumps({"status": status, "goaway": goaway}), flush=True)
