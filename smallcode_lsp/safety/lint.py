"""Flag completions that introduce well-known insecure patterns.

A pure, fast, line-based check (a suggestion is a few lines, often not parseable on its own):
`lint(text, language_id) -> list[Finding]`. It errs towards few false positives: each rule
needs the dangerous call *and* a sign of untrusted or interpolated data on the same line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. "shell-injection"
    message: str
    line: int  # 0-based line within the suggestion
    excerpt: str


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    languages: frozenset[str]  # empty: every language
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None  # the line is fine when this matches


PY = frozenset({"python"})
JS = frozenset({"javascript", "typescript", "javascriptreact", "typescriptreact"})
_SQL = r"(?:SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b"
# interpolation inside a string literal: f"{x}", "%s" % x, "..." + x, .format(, `${x}`
_INTERP = r"(?:\bf[\"'][^\"']*\{|[\"']\s*%\s*[\w(]|[\"']\s*\+\s*\w|\+\s*[\"']|\.format\(|\$\{)"

RULES = (
    Rule(
        "shell-injection",
        "command run through a shell with interpolated input: pass a list of arguments",
        PY,
        re.compile(r"\b(?:subprocess\.\w+|Popen|run|call|check_output)\(.*shell\s*=\s*True"),
        unless=re.compile(r"\(\s*[\"'][^\"'{}%+]*[\"']\s*,"),  # a constant command string
    ),
    Rule(
        "shell-injection",
        "os.system / os.popen with interpolated input: use subprocess with a list",
        PY,
        re.compile(r"\bos\.(?:system|popen)\(.*" + _INTERP + r"|\bos\.(?:system|popen)\(\s*\w"),
    ),
    Rule(
        "shell-injection",
        "child_process.exec with interpolated input: use execFile with an argument array",
        JS,
        re.compile(r"\b(?:exec|execSync)\(\s*(?:`[^`]*\$\{|[\"'][^\"']*[\"']\s*\+|\w+\s*\+)"),
    ),
    Rule(
        "sql-injection",
        "SQL built from strings: use query parameters",
        frozenset(),
        re.compile(_SQL + r".*" + _INTERP + r"|" + _INTERP + r".*" + _SQL, re.IGNORECASE),
    ),
    Rule(
        "sql-injection",
        "query executed on a formatted string: use query parameters",
        PY,
        re.compile(r"\.execute(?:many)?\(\s*(?:f[\"']|[\"'][^\"']*[\"']\s*(?:%|\+)|.*\.format\()"),
    ),
    Rule(
        "eval-of-input",
        "eval/exec of non-constant input: parse it (ast.literal_eval, json.loads) instead",
        PY,
        re.compile(r"(?<![\w.])(?:eval|exec)\(\s*(?![\"'\s)])"),
        unless=re.compile(r"(?<![\w.])(?:eval|exec)\(\s*compile\(\s*[\"']"),
    ),
    Rule(
        "eval-of-input",
        "eval / new Function of non-constant input",
        JS,
        re.compile(r"(?<![\w.])eval\(\s*(?![\"'`\s)])|\bnew\s+Function\("),
    ),
    Rule(
        "unsafe-deserialization",
        "pickle/marshal/shelve load of data that may be untrusted: use json or a safe format",
        PY,
        re.compile(r"\b(?:pickle|cPickle|dill|marshal)\.loads?\(|\bshelve\.open\("),
    ),
    Rule(
        "unsafe-yaml",
        "yaml.load without SafeLoader: use yaml.safe_load",
        PY,
        re.compile(r"\byaml\.(?:load|load_all)\("),
        unless=re.compile(r"Loader\s*=\s*(?:yaml\.)?(?:Safe|CSafe|Base)Loader"),
    ),
    Rule(
        "unsafe-yaml",
        "yaml.unsafe_load / full_load: use yaml.safe_load",
        PY,
        re.compile(r"\byaml\.(?:unsafe_load|full_load)\("),
    ),
    Rule(
        "hardcoded-secret",
        "a secret written into the code: read it from the environment or a secret store",
        frozenset(),
        re.compile(
            r"(?i)\b\w*(?:password|passwd|secret|api_?key|access_?key|auth_?token|private_?key)"
            r"\w*\s*[:=]\s*[\"'][^\"'\s]{6,}[\"']"
        ),
        # placeholders, and plain words (a field name such as "password", not a secret)
        unless=re.compile(
            r"(?i)[\"'](?:x{4,}|\*{4,}|changeme|your[-_ ]|<[^>]*>|\$\{)|[:=]\s*[\"'][a-z_.-]+[\"']"
        ),
    ),
    Rule(
        "hardcoded-secret",
        "a credential-shaped token in the code",
        frozenset(),
        re.compile(
            r"AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|sk-[A-Za-z0-9]{32,}|xox[bp]-[A-Za-z0-9-]{20,}"
            r"|-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"
        ),
    ),
    Rule(
        "tls-verification-off",
        "TLS certificate verification disabled",
        PY,
        re.compile(r"\bverify\s*=\s*False\b|_create_unverified_context\(|CERT_NONE\b"),
    ),
    Rule(
        "tls-verification-off",
        "TLS certificate verification disabled",
        JS,
        re.compile(r"rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED"),
    ),
)


def lint(text: str, language_id: str) -> list[Finding]:
    """Findings for the lines of `text` (a suggestion), in line order; [] when clean."""
    rules = [r for r in RULES if not r.languages or language_id in r.languages]
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines()):
        if len(line) > 2000:  # minified or generated: not worth a regex pass
            continue
        code = _strip_comment(line, language_id)
        for rule in rules:
            if rule.pattern.search(code) and not (rule.unless and rule.unless.search(code)):
                findings.append(Finding(rule.id, rule.message, number, line.strip()[:120]))
                break  # one finding per line is enough to warn
    return findings


def _strip_comment(line: str, language_id: str) -> str:
    """Drop a trailing line comment (roughly: not inside quotes is not checked; good enough)."""
    marker = "#" if language_id in PY else "//" if language_id in JS else None
    if marker is None:
        return line
    stripped = line.lstrip()
    return "" if stripped.startswith(marker) else line
