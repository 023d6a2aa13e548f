"""The in-process engine: a GGUF model in llama.cpp through llama-cpp-python's low-level API.

The only package under smallcode_lsp/ that imports `llama_cpp` (an import-linter contract in
pyproject.toml keeps it so). engine.py (`LocalEngine`) -> loader.py (CPU-aware, crash-safe
loading; probe.py: the trial load in a child) -> generate.py (the decode loop, `LocalModel`)
-> model.py (`LoadedModel`: model, context, vocab) with kv_cache.py, parking.py, abort.py.
Nothing here is imported by the remote engines, and nothing here imports them.
"""
