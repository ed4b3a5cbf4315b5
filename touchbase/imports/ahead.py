"""Reading and validating the next chunks of a file while the database writes this one.

Validation reads no database (`intake.schema`), so it can run on a thread of its own: the
importer's main thread mostly waits for PostgreSQL, and the reader uses that time. At most
`depth` chunks wait ready, so memory stays bounded whatever the file's size.
"""

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_ITEM, _DONE, _ERROR = "item", "done", "error"


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, produced on a background thread up to `depth` ahead of the consumer; an
    exception while producing is raised where the consumer reads the item."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value) -> bool:
        while not stop.is_set():
            try:
                ready.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(_ITEM, item):
                    return  # the consumer left
            put(_DONE, None)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_ERROR, exc)

    reader = threading.Thread(target=produce, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        reader.join()
