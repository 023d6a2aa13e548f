"""The clients' copies of the server settings agree with smallcode_lsp/options.py.

Each failure names the fix: `python scripts/sync_editor_settings.py` rewrites every copy.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from smallcode_lsp.options import SETTINGS_SPEC, SettingSpec

ROOT = Path(__file__).resolve().parents[2]
FIX = "run `python scripts/sync_editor_settings.py` (it writes them from smallcode_lsp/options.py)"
SPEC = {spec.key: spec for spec in SETTINGS_SPEC}
# The editors' settings UIs list every setting but the benchmark switches.
EDITOR = {key: spec for key, spec in SPEC.items() if spec.group != "bench"}
BENCH = {key: spec for key, spec in SPEC.items() if spec.group == "bench"}


def _sync() -> Any:
    path = ROOT / "scripts" / "sync_editor_settings.py"
    loader = importlib.util.spec_from_file_location("sync_editor_settings", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


sync = _sync()


def _default(spec: SettingSpec) -> Any:
    return sync.json_default(spec)


def _check_schema(where: str, props: dict[str, Any], *, string_default: Any) -> None:
    """`props`: key -> JSON-schema property, as VS Code and LSP4IJ read them."""
    assert set(props) == set(EDITOR), f"{where}: keys differ from the spec; {FIX}"
    for key, prop in props.items():
        spec = SPEC[key]
        kind = ["string", "null"] if spec.kind == "string" and string_default is None else spec.kind
        assert prop["type"] == kind, f"{where}: {key} type {prop['type']!r}; {FIX}"
        default = string_default if spec.kind == "string" else _default(spec)
        assert prop.get("default") == default, f"{where}: {key} default; {FIX}"
        low, high = spec.bounds or (None, None)
        assert prop.get("minimum") == low, f"{where}: {key} minimum; {FIX}"
        assert prop.get("maximum") == high, f"{where}: {key} maximum; {FIX}"
        assert prop["description"] == sync.editor_description(spec), f"{where}: {key}; {FIX}"
        if spec.choices:
            assert set(spec.choices) <= set(prop.get("enum", ())), f"{where}: {key} enum; {FIX}"
        else:
            assert "enum" not in prop, f"{where}: {key} enum; {FIX}"


def test_vscode_package_json() -> None:
    props = json.loads(sync.VSCODE.read_text())["contributes"]["configuration"]["properties"]
    server = {
        k.removeprefix("smallcode."): v
        for k, v in props.items()
        if k.removeprefix("smallcode.") in EDITOR
    }
    _check_schema("editors/vscode/package.json", server, string_default="")
    own = {k for k in props if k.removeprefix("smallcode.") not in SPEC}
    # The extension's own settings (start the server, trace it): not sent to the server.
    assert own == {"smallcode.serverPath", "smallcode.pythonPath", "smallcode.trace.server"}


@pytest.mark.parametrize("name", ["initializationOptions.schema.json", "settings.schema.json"])
def test_jetbrains_schemas(name: str) -> None:
    schema = json.loads((sync.JETBRAINS / name).read_text())
    props = schema["properties"]
    if name == "settings.schema.json":
        props = props["smallcode"]["properties"]
    _check_schema(f"editors/jetbrains/smallcode/{name}", props, string_default=None)


def test_nvim_server_keys() -> None:
    text = sync.NVIM_CONFIG.read_text()
    block = re.search(r"M\.server_keys = \{\n(.*?)\n\}", text, re.DOTALL)
    assert block, f"editors/nvim/lua/smallcode/config.lua: no M.server_keys table; {FIX}"
    found = dict(re.findall(r"^\s*(\w+) = '(\w+)',$", block.group(1), re.MULTILINE))
    want = {key: sync.NVIM_TYPES[spec.kind] for key, spec in EDITOR.items()}
    assert found == want, f"editors/nvim/lua/smallcode/config.lua server_keys; {FIX}"
    # The benchmark switches are not listed but still accepted by setup() (bench_keys).
    block = re.search(r"M\.bench_keys = \{\n(.*?)\n\}", text, re.DOTALL)
    assert block, f"editors/nvim/lua/smallcode/config.lua: no M.bench_keys table; {FIX}"
    found = dict(re.findall(r"^\s*(\w+) = '(\w+)',$", block.group(1), re.MULTILINE))
    assert found == {key: sync.NVIM_TYPES[spec.kind] for key, spec in BENCH.items()}
    assert "M.server_keys[key] or M.bench_keys[key]" in text


def test_benchmark_switches_stay_out_of_the_editors_settings_pages() -> None:
    assert BENCH, "the bench group has settings"
    texts = {
        "editors/vscode/package.json": sync.VSCODE.read_text(),
        "editors/jetbrains/smallcode/initializationOptions.schema.json": sync.JB_INIT.read_text(),
        "editors/jetbrains/smallcode/settings.schema.json": sync.JB_SETTINGS.read_text(),
        "editors/nvim/doc/smallcode.txt": sync.NVIM_DOC.read_text(),
    }
    for where, text in texts.items():
        for key in BENCH:
            assert key not in text, f"{where} lists the benchmark switch {key}; {FIX}"
    settings_doc = sync.SETTINGS_DOC.read_text()  # docs/settings.md keeps them, a table apart
    assert all(f"| `{key}` |" in settings_doc for key in BENCH)


def test_every_generated_part_is_current() -> None:
    """Catches what the checks above do not read: the Neovim doc, the README tables, order."""
    stale = [str(path.relative_to(ROOT)) for path in sync.stale_files()]
    assert not stale, f"stale settings in {', '.join(stale)}; {FIX}"


def test_cli_defaults_come_from_the_spec() -> None:
    from smallcode_lsp.cli import build_parser

    args = build_parser().parse_args(["model"])
    assert args.n_ctx == SPEC["nCtx"].default
    assert args.threads == SPEC["nThreads"].default
    assert args.gpu_layers == SPEC["nGpuLayers"].default
    assert args.experts_used == SPEC["expertsUsed"].default
    assert args.cpu_moe == SPEC["cpuMoe"].default
    assert args.model is None
    complete = build_parser().parse_args(["complete", "f.py:1:1"])
    assert complete.max_tokens == SPEC["maxTokens"].default
