"""The remote engines: the same jobs, with a shared server doing the model's work over HTTP.

engine.py (`RemoteEngine`: faults, retries, status) -> remote_llama.py (llama-server's
`/completion`, `/infill`; wire format in llama_server.py) or remote_openai.py (any
OpenAI-compatible `/v1/completions`; openai_api.py, text_prompt.py), both on remote_model.py
(`RemoteModel`) and http.py (a stdlib JSON/SSE client). No llama.cpp here: nothing in this
package imports engine.local (import-linter contract in pyproject.toml).
"""
