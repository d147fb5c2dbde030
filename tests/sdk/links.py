"""A network link on loopback that a test can cut, as a mobile network drops."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

UP = "up"  # from the client to the server
DOWN = "down"


class Link:
    """Relays TCP connections from its own loopback port to `target_port`. cut() drops every
    connection and refuses new ones until mend(). lose(direction) makes the open connections
    lose what is sent that way (UP or DOWN), as a failing network does before it drops; `lost`
    is set once something was."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.lock = threading.Lock()
        self.connections: list[socket.socket] = []
        self.losing: set[str] = set()
        self.lost = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self.up = False
            dropped, self.connections = self.connections, []
        for connection in dropped:
            _drop(connection)

    def lose(self, direction: str) -> None:
        with self.lock:
            self.lost.clear()
            self.losing.add(direction)

    def mend(self) -> None:
        with self.lock:
            self.up = True
            self.losing.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                if not self.up:
                    _drop(client)
                    continue
                server = socket.create_connection(("127.0.0.1", self.target_port))
                self.connections += [client, server]
            for direction, source, sink in ((UP, client, server), (DOWN, server, client)):
                threading.Thread(
                    target=self._pipe, args=(direction, source, sink), daemon=True
                ).start()

    def _pipe(self, direction: str, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if direction in self.losing:
                    self.lost.set()
                else:
                    sink.sendall(data)
        _drop(source)
        _drop(sink)


def _drop(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@contextmanager
def link_to(port: int) -> Iterator[Link]:
    link = Link(port)
    try:
        yield link
    finally:
        link.close()
