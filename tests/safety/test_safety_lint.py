"""The completion safety lint: insecure suggestions are flagged, ordinary code is not."""

from __future__ import annotations

import pytest

from smallcode_lsp.safety.lint import lint

FLAGGED = [
    ("python", 'subprocess.run(f"ls {path}", shell=True)', "shell-injection"),
    ("python", 'subprocess.call("rm -rf " + target, shell=True)', "shell-injection"),
    ("python", "subprocess.Popen(cmd, shell=True)", "shell-injection"),
    ("python", 'os.system("convert %s out.png" % name)', "shell-injection"),
    ("python", "os.system(command)", "shell-injection"),
    ("javascript", "exec(`git log ${branch}`, cb)", "shell-injection"),
    ("javascript", 'child_process.execSync("tar xf " + file)', "shell-injection"),
    ("python", "cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")", "sql-injection"),
    ("python", 'cursor.execute("DELETE FROM t WHERE id = %s" % item_id)', "sql-injection"),
    ("python", 'q = "SELECT id FROM users WHERE email = \'" + email + "\'"', "sql-injection"),
    ("javascript", "db.query(`SELECT * FROM users WHERE id = ${req.params.id}`)", "sql-injection"),
    ("python", "sql = 'UPDATE users SET name = {} WHERE id = 1'.format(name)", "sql-injection"),
    ("python", "value = eval(request.args['expr'])", "eval-of-input"),
    ("python", "exec(user_code)", "eval-of-input"),
    ("javascript", "const f = new Function('a', body);", "eval-of-input"),
    ("javascript", "return eval(input);", "eval-of-input"),
    ("python", "obj = pickle.loads(request.data)", "unsafe-deserialization"),
    ("python", "data = marshal.load(fh)", "unsafe-deserialization"),
    ("python", "config = yaml.load(stream)", "unsafe-yaml"),
    ("python", "config = yaml.load(stream, Loader=yaml.Loader)", "unsafe-yaml"),
    ("python", "config = yaml.unsafe_load(stream)", "unsafe-yaml"),
    ("python", 'DB_PASSWORD = "hunter2hunter2"', "hardcoded-secret"),
    ("python", 'client = Client(api_key="a8f5f167f44f4964e6c998dee827110c")', "hardcoded-secret"),
    ("javascript", 'const token = "ghp_' + "a" * 36 + '";', "hardcoded-secret"),
    ("python", 'aws = "AKIAIOSFODNN7EXAMPLE"', "hardcoded-secret"),
    ("python", "requests.get(url, verify=False)", "tls-verification-off"),
    ("javascript", "https.request({ host, rejectUnauthorized: false })", "tls-verification-off"),
]

CLEAN = [
    ("python", 'subprocess.run(["ls", path], check=True)'),
    ("python", 'subprocess.run("make clean", shell=True)'),  # constant command
    ("python", 'cur.execute("SELECT * FROM users WHERE name = ?", (name,))'),
    ("python", 'cursor.execute("DELETE FROM t WHERE id = %s", (item_id,))'),
    ("python", 'logging.info("selected %s rows from %s", n, table)'),
    ("python", "value = ast.literal_eval(text)"),
    ("python", "model.eval()"),
    ("python", "result = evaluate(expr)"),
    ("python", "data = json.loads(payload)"),
    ("python", "config = yaml.safe_load(stream)"),
    ("python", "config = yaml.load(stream, Loader=yaml.SafeLoader)"),
    ("python", 'password = os.environ["DB_PASSWORD"]'),
    ("python", 'PASSWORD_FIELD = "password"'),
    ("python", 'api_key = "<your-api-key>"'),
    ("python", "# os.system(cmd) would be unsafe here"),
    ("javascript", "execFile('git', ['log', branch], cb)"),
    ("javascript", "const total = items.reduce((a, b) => a + b, 0);"),
    ("typescript", "const q = db.select().from(users).where(eq(users.id, id));"),
    ("python", 'message = f"Hello {name}, you selected {item} from the list"'),
]


@pytest.mark.parametrize(("language", "text", "rule"), FLAGGED)
def test_insecure_suggestion_is_flagged(language: str, text: str, rule: str) -> None:
    findings = lint(f"{text}\n", language)
    assert [f.rule for f in findings] == [rule], findings


@pytest.mark.parametrize(("language", "text"), CLEAN)
def test_ordinary_code_is_not_flagged(language: str, text: str) -> None:
    assert lint(text, language) == []


def test_finding_points_at_the_line() -> None:
    text = "def load(raw):\n    # parse it\n    return pickle.loads(raw)\n"
    (finding,) = lint(text, "python")
    assert finding.line == 2
    assert finding.excerpt == "return pickle.loads(raw)"


def test_rules_are_language_scoped_and_input_is_bounded() -> None:
    assert lint("obj = pickle.loads(data)", "javascript") == []
    assert lint("x = 1;" * 100_000, "javascript") == []  # one huge minified line: skipped
