"""scripts/bench's idle clients: opens COUNT keep-alive connections to HOST:PORT, sends one request on each (GET PATH)
and reads its answer, then keeps every connection open and silent until stdin closes (the bench closes it when the
load is over). Prints "open COUNT" once every connection has had its answer, and on exit "closed N", N being the
connections the server closed meanwhile (a gateway that drops idle clients under load would show here).

    python3 idle_connections.py HOST PORT COUNT PATH
"""
import socket
import sys


def open_and_ask(host, port, path):
    connection = socket.create_connection((host, port), timeout=30)
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            raise SystemExit(f"idle_connections: the server closed a connection before answering {path}")
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if not status.startswith(b"2"):
        raise SystemExit(f"idle_connections: GET {path} answered {head.splitlines()[0].decode()}")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    connection.setblocking(False)
    return connection


def main():
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    connections = [open_and_ask(host, port, path) for _ in range(count)]
    print(f"open {len(connections)}", flush=True)
    sys.stdin.read()
    closed = 0
    for connection in connections:
        try:
            closed += connection.recv(1) == b""
        except BlockingIOError:
            pass  # still open, nothing to read: as it should be
        except OSError:
            closed += 1
        connection.close()
    print(f"closed {closed}", flush=True)


if __name__ == "__main__":
    main()
