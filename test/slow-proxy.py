"""A TCP proxy on 127.0.0.1 that can read slowly from its clients: a slow uplink, for tests.

usage: python3 slow-proxy.py UPSTREAM_PORT
Prints the port it listens on. Each line on stdin "slow RATE" reads from the connections open
now at RATE bytes a second (0: not at all, a dead uplink); later connections pass at full speed.
Its sockets take little in the kernel (SO_RCVBUF 16 KiB), so what a client sends past that
waits in the client's own kernel, then in the client. Ends with its stdin.
"""

import socket
import sys
import threading
import time

CHUNK = 16384
upstream = int(sys.argv[1])
rates = {}  # client socket -> bytes a second (None: full speed)
lock = threading.Lock()


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pipe(src, dst, client):
    try:
        while True:
            with lock:
                rate = rates.get(client) if client else None
            if rate == 0:
                time.sleep(0.05)
                continue
            data = src.recv(CHUNK if client else 1 << 20)
            if not data:
                break
            dst.sendall(data)
            if rate:
                time.sleep(len(data) / rate)
    except OSError:
        pass
    close(src, dst)


def serve(listener):
    while True:
        client, _ = listener.accept()
        up = socket.create_connection(("127.0.0.1", upstream))
        with lock:
            rates[client] = None
        threading.Thread(target=pipe, args=(client, up, client), daemon=True).start()
        threading.Thread(target=pipe, args=(up, client, None), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CHUNK)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
threading.Thread(target=serve, args=(listener,), daemon=True).start()
for line in sys.stdin:
    words = line.split()
    if len(words) == 2 and words[0] == "slow":
        with lock:
            for c in rates:
                rates[c] = float(words[1])
        print("slowed", flush=True)
