"""Workspace symbol index: built in a background thread, kept live by the watcher.

Thread-safety: one lock guards the two dicts; readers get copies of small lists. Memory is
bounded by MAX_FILES and MAX_SYMBOLS (files beyond the caps are simply not indexed).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from smallcode_lsp.languages import language_for, language_key, parse_text
from smallcode_lsp.workspace.files import MAX_FILE_BYTES, FileFilter, looks_indexable
from smallcode_lsp.workspace.symbols import Symbol, extract_symbols
from smallcode_lsp.workspace.watch import Watcher

log = logging.getLogger("smallcode_lsp.workspace")

MAX_FILES = 20_000
MAX_SYMBOLS = 100_000  # ~0.5 KB each (signature + doc line): tens of MB at worst
MAX_SYMBOLS_PER_FILE = 2_000


class WorkspaceIndex:
    """Symbols of every source file under `roots`. Paths are absolute real paths."""

    def __init__(self, roots: list[str], *, watch: bool = True) -> None:
        self.filter = FileFilter(roots)
        self.roots = self.filter.roots
        self._watch = watch
        self._lock = threading.Lock()
        self._files: dict[str, list[Symbol]] = {}
        self._by_name: dict[str, list[Symbol]] = {}
        self._count = 0
        self._thread: threading.Thread | None = None
        self._watcher: Watcher | None = None
        self._stopped = threading.Event()
        self.ready = threading.Event()  # set when the first full scan is done
        self.generation = 0  # bumped on every change; lets callers cache derived data

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background scan (and the watcher); returns immediately."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._scan, name="smallcode-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scanning and watching; safe to call twice."""
        self._stopped.set()
        # Join first: the scan thread is what starts the watcher, so only then is it known.
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        watcher = self._watcher
        if watcher is not None:
            watcher.stop()
            self._watcher = None

    def _scan(self) -> None:
        began = time.monotonic()
        try:
            if self._watch:
                self._start_watcher()
            for path in self.filter.walk(MAX_FILES):
                if self._stopped.is_set():
                    return
                try:
                    self.update_file(path)
                except (OSError, ValueError, RecursionError) as exc:  # one bad file, not the scan
                    log.warning("index: %s skipped: %s", path, exc)
        except Exception:  # a broken index must not take the server down
            log.exception("index scan failed")
        finally:
            self.ready.set()
            log.info(
                "index: %d files, %d symbols in %.2fs",
                len(self._files),
                self._count,
                time.monotonic() - began,
            )

    def _start_watcher(self) -> None:
        """Watch before scanning, so no change made during the scan is lost. Failure (e.g. the
        inotify watch limit on a huge tree) costs live updates, not the index."""
        try:
            watcher = Watcher(self)
            watcher.start()
        except OSError as exc:
            log.warning("index: not watching %s (%s); restart to refresh", self.roots, exc)
            return
        self._watcher = watcher

    # -- updates ---------------------------------------------------------------------------
    def update_file(self, path: str) -> bool:
        """(Re)index one file; removes it when it is gone or no longer indexable."""
        path = os.path.realpath(path)
        if not self.filter.accept_file(path):
            self.remove_file(path)
            return False
        language = language_for("", path)
        key = language_key("", path)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError:
            self.remove_file(path)
            return False
        if language is None or key is None or not looks_indexable(data):
            self.remove_file(path)
            return False
        # Latin-1 or broken files still yield their ASCII symbols.
        tree = parse_text(language, data.decode("utf-8", "replace"))
        symbols = extract_symbols(tree.root_node, key, path, MAX_SYMBOLS_PER_FILE)
        with self._lock:
            if path not in self._files and len(self._files) >= MAX_FILES:
                return False
            self._remove_locked(path)
            if self._count + len(symbols) > MAX_SYMBOLS:
                log.warning("index: symbol cap %d reached, %s not indexed", MAX_SYMBOLS, path)
                return False
            self._files[path] = symbols
            self._count += len(symbols)
            for sym in symbols:
                self._by_name.setdefault(sym.name, []).append(sym)
            self.generation += 1
        return True

    def remove_file(self, path: str) -> None:
        """Forget one file (deleted, moved away, or now ignored)."""
        path = os.path.realpath(path)
        with self._lock:
            if self._remove_locked(path):
                self.generation += 1

    def remove_tree(self, directory: str) -> None:
        """Forget every file under `directory` (a deleted or moved directory)."""
        prefix = os.path.realpath(directory) + os.sep
        with self._lock:
            gone = [p for p in self._files if p.startswith(prefix)]
            for p in gone:
                self._remove_locked(p)
            if gone:
                self.generation += 1

    def _remove_locked(self, path: str) -> bool:
        old = self._files.pop(path, None)
        if old is None:
            return False
        self._count -= len(old)
        for sym in old:
            bucket = self._by_name.get(sym.name)
            if bucket is not None:
                bucket[:] = [s for s in bucket if s.path != path]
                if not bucket:
                    del self._by_name[sym.name]
        return True

    # -- queries ---------------------------------------------------------------------------
    def lookup(self, name: str) -> list[Symbol]:
        """Definitions named `name` across the workspace (copy; may be empty)."""
        with self._lock:
            return list(self._by_name.get(name, ()))

    def symbols_in(self, path: str) -> list[Symbol]:
        """Symbols defined in one file, in source order."""
        with self._lock:
            return list(self._files.get(os.path.realpath(path), ()))

    def files(self) -> list[str]:
        with self._lock:
            return sorted(self._files)

    def relative(self, path: str) -> str:
        """Path relative to its workspace root (what the model is shown)."""
        root = self.filter.root_of(path)
        return os.path.relpath(os.path.realpath(path), root) if root else os.path.basename(path)

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)
