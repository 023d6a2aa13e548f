import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { executable, resolveLaunch } from '../src/common/launch';

test('serverPath wins over everything', () => {
  assert.deepEqual(resolveLaunch({ serverPath: '/s/smallcode-lsp', pythonPath: '/v/bin/python' }, () => true, 'linux'),
    { command: '/s/smallcode-lsp', args: ['serve'] });
});

test('pythonPath uses the venv script beside it when present', () => {
  assert.deepEqual(resolveLaunch({ serverPath: '', pythonPath: '/v/bin/python' }, (f) => f === '/v/bin/smallcode-lsp', 'linux'),
    { command: '/v/bin/smallcode-lsp', args: ['serve'] });
});

test('pythonPath without a script runs the CLI module', () => {
  const l = resolveLaunch({ serverPath: '', pythonPath: '/usr/bin/python3' }, () => false, 'linux');
  assert.equal(l.command, '/usr/bin/python3');
  assert.equal(l.args[0], '-c');
  assert.match(l.args[1], /smallcode_lsp\.cli import main/);
  assert.equal(l.args[2], 'serve');
});

test('nothing configured: smallcode-lsp on PATH', () => {
  assert.deepEqual(resolveLaunch({ serverPath: '', pythonPath: '' }, () => false, 'linux'), { command: 'smallcode-lsp', args: ['serve'] });
  assert.equal(resolveLaunch({ serverPath: '', pythonPath: '' }, () => false, 'win32').command, 'smallcode-lsp.exe');
});

test('executable options carry no transport (TransportKind.stdio would append --stdio)', () => {
  const opts = executable({ command: '/s/smallcode-lsp', args: ['serve'] });
  assert.deepEqual(opts, { command: '/s/smallcode-lsp', args: ['serve'] });
  assert.equal('transport' in opts, false);
});
