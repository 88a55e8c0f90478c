"""The one way tests stand up a local HTTP server (a fake processor API, a fake SMS
upstream, a folder for the browser): on 127.0.0.1 and a free port, served by a thread,
stopped with ``stop()``. No network."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class Loopback:
    def __init__(self, handler, poll_interval: float = 0.02):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": poll_interval}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
