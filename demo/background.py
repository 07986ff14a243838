"""An HTTP server served from a daemon thread: the lifecycle the demo shop, the fake Search
Console API and the test servers share.

Subclasses bind `_httpd` in their constructor (so a busy port fails there, where callers can
report it) and name their thread; `start`/`stop` and the context manager come from here.
"""

from __future__ import annotations

import threading
from socketserver import BaseServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    _httpd: BaseServer
    _thread: threading.Thread | None = None
    thread_name = "http-server"

    def start(self) -> Self:
        """Serve in a daemon thread (idempotent); returns self so `Server().start()` reads well."""
        if self._thread is None:
            port = self._httpd.server_address[1]  # type: ignore[index]
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{self.thread_name}-{port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
