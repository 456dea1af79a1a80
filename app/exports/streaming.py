"""An export on its way to the client: started before the response, aborted loudly if it fails.

A download is streamed, so its status line goes out before the last item is read. Two rules keep
a failure from passing for a finished download:

1. **Started before the response** (``started``): the first chunk (the first 64 KiB, some images
   when the zip holds them) is made while the request can still be answered with a problem. An
   image store that is down (``ImageStoreUnavailable``) is then a 503 with ``Retry-After``,
   like any other request that needs it, and no byte of a broken zip is sent.
2. **Aborted, never ended** (``ExportAborted``): a failure after the first byte (the store goes
   away mid-way, a data error) is logged with what was sent, then raised out of the body. The
   server closes the connection without the last chunk of HTTP/1.1's chunked encoding (an
   HTTP/2 server resets the stream), so every client sees an incomplete body (httpx:
   ``RemoteProtocolError``, "incomplete chunked read"; curl: exit 18, "transfer closed with
   outstanding read data remaining"; a browser: a failed download) and a retry starts over.
   Ending the body normally would hand over a short zip, or one without its central directory,
   as if it were complete.

``ExportAborted`` is no ``OSError`` on purpose: Starlette takes an ``OSError`` out of a
streaming body for the client having gone away.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Generator

from app.exports.base import Export

__all__ = ["ExportAborted", "started"]

log = logging.getLogger("tessera.exports")


class ExportAborted(RuntimeError):
    """An export failed after its first byte was sent; the response must not end normally."""


def started(export: Export, what: str) -> Export:
    """``export`` with its first chunk made now; any error doing so is raised here (before a
    response exists). ``what`` names the download in the log (``"coco export of bat_1"``)."""
    chunks = export.chunks
    try:
        first = next(chunks, b"")
    except BaseException:
        chunks.close()
        raise
    return dataclasses.replace(export, chunks=_aborting(first, chunks, what))


def _aborting(
    first: bytes, chunks: Generator[bytes, None, None], what: str
) -> Generator[bytes, None, None]:
    sent = 0
    try:
        yield first
        sent += len(first)
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
    except GeneratorExit:
        raise  # the client went away (or the server closed the body): nothing to report
    except Exception as exc:
        log.error(
            "%s aborted after %d bytes sent: %s: %s; the connection is closed without ending "
            "the response, so the client sees an incomplete download",
            what,
            sent,
            type(exc).__name__,
            exc,
        )
        raise ExportAborted(f"{what} aborted after {sent} bytes") from exc
    finally:
        chunks.close()
