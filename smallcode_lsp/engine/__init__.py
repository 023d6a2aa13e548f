"""The engine: runs a model for completion jobs, behind the `Engine` interface (base.py).

Layout. This package is the boundary and the machinery both engines share: the interface
(base.py), plain model facts and options (info.py, cpu.py), the deadline rule (deadline.py),
the worker thread (worker.py, threaded.py), cancel, speed, stop rules, prompt token lists.
`local/` is the in-process llama.cpp engine (the only importer of `llama_cpp`), `remote/` the
HTTP engines; neither imports the other, and fallback.py composes the two.

Threads and ownership. An engine owns every mutable object its thread writes: for the
in-process engine (local/engine.py) that is the loaded model and its KV caches
(local/kv_cache.py), speed meter (speed.py), abort switch (local/abort.py) and job queue
(worker.py), all touched on the one
engine thread only, except two that are built to be shared: a `CancelToken` (cancel.py; set
from any thread, read by the engine) and the abort switch's flag (tripped from any thread under
its lock, polled by llama.cpp in C). The remote engine (remote/engine.py) is the same shape: its
worker owns the HTTP connection and the `RemoteModel` (token cache, slot record, speed meter);
a cancel shuts the connection's socket from any thread. What crosses to and from the event
loop is a job going in and a `concurrent.futures.Future` coming out, plus an immutable
`EngineStatus` snapshot read under the engine's lock. Nothing above the engine (service,
scheduler, prefetcher) is written from the engine's thread:
tests/lsp/test_service_thread_ownership.py checks both sides with the real model.
"""
