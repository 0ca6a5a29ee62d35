"""select and _socket: a local socket pair, readiness by select, poll and epoll."""
import json as _anchor
import os
import select
import socket
import sys

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


for name in ["_socket", "select"]:
    print(origin(name))
a, b = socket.socketpair()
print("family", socket.AddressFamily(a.family).name, socket.SocketKind(a.type).name)
print("ready before", select.select([b], [], [], 0)[0] == [])
a.sendall(b"ping" * 1000)
readable, writable, _ = select.select([b], [a], [], 1.0)
print("ready after", readable == [b], writable == [a])
received = b""
while len(received) < 4000:
    received += b.recv(4096)
print("received", len(received), received[:8])
poller = select.poll()
poller.register(b.fileno(), select.POLLIN)
print("poll idle", poller.poll(0))
b.sendall(b"pong")
ep = select.epoll()
ep.register(a.fileno(), select.EPOLLIN)
print("epoll", [mask == select.EPOLLIN for _, mask in ep.poll(1.0)], a.recv(16))
ep.close()
a.close()
b.close()
print(socket.getaddrinfo("127.0.0.1", 8080, socket.AF_INET, socket.SOCK_STREAM)[0][4])
print(socket.inet_pton(socket.AF_INET6, "::1").hex(), socket.htons(0x1234))
