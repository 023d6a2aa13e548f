"""Keeps a WorkspaceIndex live with watchdog: create, modify, delete, move (files and dirs).

It knows the index only as `WatchedIndex` (what it calls on it), so index.py imports this
module and not the other way round.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from smallcode_lsp.workspace.files import FileFilter

log = logging.getLogger("smallcode_lsp.workspace")


class WatchedIndex(Protocol):
    """What the watcher updates: `WorkspaceIndex` (index.py)."""

    filter: FileFilter
    roots: list[str]

    def update_file(self, path: str) -> bool: ...

    def remove_file(self, path: str) -> None: ...

    def remove_tree(self, directory: str) -> None: ...


def _str(p: bytes | str) -> str:
    return os.fsdecode(p)


class _Handler(FileSystemEventHandler):
    def __init__(self, index: WatchedIndex) -> None:
        self.index = index

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Handlers run on watchdog's thread: never let an exception kill the observer.
        try:
            self._handle(event)
        except Exception:
            log.exception("watch: failed on %s", event)

    def _handle(self, event: FileSystemEvent) -> None:
        src = _str(event.src_path)
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        if os.path.basename(src) == ".gitignore":
            self.index.filter.invalidate(os.path.dirname(src))
        if isinstance(event, DirMovedEvent):
            self.index.remove_tree(src)
            self._index_tree(_str(event.dest_path))
            return
        if isinstance(event, DirDeletedEvent):
            self.index.remove_tree(src)
            return
        if event.is_directory:
            if kind == "created":
                self._index_tree(src)  # a directory moved in from outside, or cp -r
            return
        if kind == "moved":
            self.index.remove_file(src)
            self.index.update_file(_str(event.dest_path))
        elif kind == "deleted":
            self.index.remove_file(src)
        else:  # created, modified, closed
            self.index.update_file(src)

    def _index_tree(self, directory: str) -> None:
        for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
            dirnames[:] = [
                d for d in dirnames if not self.index.filter.ignored(os.path.join(dirpath, d), True)
            ]
            for name in filenames:
                self.index.update_file(os.path.join(dirpath, name))


class Watcher:
    """One watchdog observer over all roots of an index."""

    def __init__(self, index: WatchedIndex) -> None:
        self.index = index
        self._observer = Observer()
        self._handler = _Handler(index)

    def start(self) -> None:
        for root in self.index.roots:
            if os.path.isdir(root):
                self._observer.schedule(self._handler, root, recursive=True)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
