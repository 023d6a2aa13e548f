import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ServerLogParser } from '../src/common/serverlog';

test('each server log record keeps its level; timestamp and level are left to the channel', () => {
  const p = new ServerLogParser();
  assert.deepEqual(p.line('2026-11-30 14:10:48,123 INFO smallcode_lsp.engine.local.model: warm-up decode: 40 ms'),
    { level: 'info', message: 'smallcode_lsp.engine.local.model: warm-up decode: 40 ms' });
  assert.equal(p.line('2026-11-30 14:10:48,123 DEBUG pygls.protocol: x').level, 'debug');
  assert.equal(p.line('2026-11-30 14:10:48,123 WARNING smallcode_lsp.server: bad setting').level, 'warn');
  assert.equal(p.line('2026-11-30 14:10:48,123 ERROR smallcode_lsp.server: boom').level, 'error');
  assert.equal(p.line('2026-11-30 14:10:48,123 CRITICAL smallcode_lsp.server: boom').level, 'error');
});

test('lines that are not records continue the record before them', () => {
  const p = new ServerLogParser();
  assert.deepEqual(p.line('llama_model_loader: loaded meta data'), { level: 'info', message: 'llama_model_loader: loaded meta data' });
  p.line('2026-11-30 14:10:48,123 ERROR smallcode_lsp.protocol: handler failed');
  assert.equal(p.line('  File "server.py", line 3, in f').level, 'error');
  p.line('2026-11-30 14:10:49,000 INFO smallcode_lsp.completion: completion');
  assert.equal(p.line('more of that message').level, 'info');
  assert.equal(p.line('Traceback (most recent call last):').level, 'error');
  assert.equal(p.line('ValueError: x').level, 'error');
  // An unknown word where the level goes is not a record.
  p.line('2026-11-30 14:10:49,000 INFO a: b');
  assert.equal(p.line('2026-11-30 14:10:49,000 NOTICE a: b').message, '2026-11-30 14:10:49,000 NOTICE a: b');
});
