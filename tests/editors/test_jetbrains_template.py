"""LSP4IJ template: files valid against their schemas, only settings the server knows, and the
request shape LSP4IJ sends answered with items LSP4IJ can show."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from editor_env import EDITORS, need_module
from lsp_stdio import LspProcess

jsonschema = need_module("jsonschema")

TEMPLATE = EDITORS / "jetbrains" / "smallcode"

# The part of LSP4IJ's template descriptor this template uses.
TEMPLATE_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "programArgs", "fileTypeMappings"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "name": {"type": "string"},
        "programArgs": {
            "type": "object",
            "required": ["default"],
            "additionalProperties": False,
            "properties": {"default": {"type": "string"}, "windows": {"type": "string"}},
        },
        "fileTypeMappings": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["fileType", "languageId"],
                "additionalProperties": False,
                "properties": {
                    "fileType": {
                        "type": "object",
                        "required": ["patterns"],
                        "properties": {
                            "name": {"type": "string"},
                            "patterns": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string", "pattern": r"^\*\.[a-z0-9]+$"},
                            },
                        },
                    },
                    "languageId": {"type": "string"},
                },
            },
        },
    },
}


def load(name: str) -> Any:
    return json.loads((TEMPLATE / name).read_text())


def server_setting_names() -> set[str]:
    """camelCase keys of the server's settings: what it accepts."""
    from smallcode_lsp.options import SETTINGS_SPEC

    return {spec.key for spec in SETTINGS_SPEC}


def test_template_descriptor_is_valid() -> None:
    jsonschema.validate(load("template.json"), TEMPLATE_SCHEMA)
    assert load("template.json")["programArgs"]["default"].split()[-1] == "serve"


@pytest.mark.parametrize(
    ("data", "schema"),
    [
        ("settings.json", "settings.schema.json"),
        ("initializationOptions.json", "initializationOptions.schema.json"),
    ],
)
def test_files_validate_against_their_schemas(data: str, schema: str) -> None:
    loaded = load(schema)
    jsonschema.Draft7Validator.check_schema(loaded)
    jsonschema.validate(load(data), loaded)


def test_schemas_reject_typos() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"maxToken": 3}, load("initializationOptions.schema.json"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"smallcode": {"maxTokens": "64"}}, load("settings.schema.json"))


def test_only_settings_the_server_knows() -> None:
    known = server_setting_names()
    init_schema = set(load("initializationOptions.schema.json")["properties"])
    settings_schema = set(load("settings.schema.json")["properties"]["smallcode"]["properties"])
    assert init_schema <= known, init_schema - known
    assert settings_schema == init_schema
    assert set(load("initializationOptions.json")) <= known
    assert set(load("settings.json")["smallcode"]) <= known


def test_file_patterns_match_the_servers_language_ids() -> None:
    from smallcode_lsp.languages import language_id_for_path

    for mapping in load("template.json")["fileTypeMappings"]:
        for pattern in mapping["fileType"]["patterns"]:
            assert language_id_for_path("x" + pattern[1:]) == mapping["languageId"], pattern


# --- protocol replay -------------------------------------------------------------------------

DOC = "def fibonacci(n):\n    if n < 2:"
URI = "file:///tmp/lsp4ij-replay/fib.py"

# What LSP4IJ 0.20 declares for the features it uses here.
LSP4IJ_CAPABILITIES = {
    "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": True}},
    "textDocument": {
        "synchronization": {"dynamicRegistration": True, "didSave": True},
        "inlineCompletion": {"dynamicRegistration": True},
    },
    "window": {"workDoneProgress": True, "showMessage": {}},
    "general": {"positionEncodings": ["utf-16"]},
}


def test_lsp4ij_request_shape(server_path: str) -> None:
    settings = load("settings.json")
    settings["smallcode"]["maxTokens"] = 12  # proves settings.json reaches the server

    def answer(method: str, params: Any) -> Any:
        if method == "workspace/configuration":
            return [settings.get(item.get("section") or "", None) for item in params["items"]]
        return None

    args = load("template.json")["programArgs"]["default"].split()
    server = LspProcess([server_path, *args[1:]], answer)
    try:
        init = server.request(
            "initialize",
            {
                "processId": None,
                "clientInfo": {"name": "IntelliJ IDEA", "version": "2025.2"},
                "rootUri": "file:///tmp/lsp4ij-replay",
                "capabilities": LSP4IJ_CAPABILITIES,
                "initializationOptions": load("initializationOptions.json"),
            },
        )
        assert init["capabilities"].get("inlineCompletionProvider") is not None
        server.notify("initialized", {})
        server.notify("workspace/didChangeConfiguration", {"settings": settings})
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": DOC}},
        )
        server.wait_ready()
        line = DOC.split("\n")[-1]
        position = {"line": 1, "character": len(line)}
        # LSP4IJ: always Automatic, never selectedCompletionInfo.
        params = {"textDocument": {"uri": URI}, "position": position, "context": {"triggerKind": 2}}
        result = server.request("textDocument/inlineCompletion", params)
        if os.environ.get("SMALLCODE_CAPTURE_DIR"):
            Path(os.environ["SMALLCODE_CAPTURE_DIR"], "lsp4ij-replay.txt").write_text(
                f"--> textDocument/inlineCompletion (as LSP4IJ sends it)\n"
                f"{json.dumps(params, indent=2)}\n<-- result\n{json.dumps(result, indent=2)}\n"
            )
        items = result["items"] if isinstance(result, dict) else result
        assert items, "no suggestion for a plain Python prompt"
        for item in items:
            # LSP4IJ shows StringValue (snippets) raw: the text must be a plain string.
            assert isinstance(item["insertText"], str)
            assert item["insertText"].strip()
            rng = item.get("range")
            if rng is not None:
                assert rng["start"]["line"] == rng["end"]["line"] == 1, "single-line range"
                start = rng["start"]["character"]
                assert start <= position["character"] <= rng["end"]["character"]
                # LSP4IJ strips the typed part when the range starts before the cursor.
                typed = line[start : position["character"]]
                assert item["insertText"].startswith(typed)
        status = server.request("smallcode/status")
        assert status["state"] == "ready"
        assert status["last"]["generatedTokens"] <= 12
        errors = [
            n
            for n in server.notifications
            if n["method"] == "window/showMessage" and n["params"]["type"] == 1
        ]
        assert not errors, errors
    finally:
        server.close()
