import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debounce, expandHome, launchSettings, needsRestart, serverSettings, SERVER_KEYS, RESTART_KEYS } from '../src/common/settings';

function getter(values: Record<string, unknown>) {
  return <T>(key: string, fallback: T): T => (key in values ? values[key] as T : fallback);
}

const PKG = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('defaults give the server defaults and leave optional keys out', () => {
  const expected: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries<Record<string, unknown>>(PKG.contributes.configuration.properties)) {
    const name = key.replace(/^smallcode\./, '');
    if (!RESTART_KEYS.includes(name) && spec.default !== '') {
      expected[name] = spec.default;
    }
  }
  const s = serverSettings(getter({}));
  assert.deepEqual(s, expected);
  assert.equal(s.maxTokens, 64);
  assert.equal(s.nCtx, 4096);
  assert.equal('model' in s, false);
});

test('every server setting is pushed, the launch settings are not', () => {
  for (const key of ['enable', 'model', 'maxTokens', 'latencyBudgetMs', 'engineFallback', 'cpuMoe']) {
    assert.ok(SERVER_KEYS.includes(key), key);
  }
  for (const key of RESTART_KEYS) {
    assert.ok(!SERVER_KEYS.includes(key), key);
  }
});

test('values are clamped, truncated and filtered', () => {
  const s = serverSettings(getter({
    enable: false, disabledLanguages: ['markdown', '', 3], maxTokens: 0, nCtx: 10, nThreads: 3.7,
    nGpuLayers: -5, temperature: -1, model: '~/m.gguf', expertsUsed: 2, invokedItems: 50,
  }));
  assert.equal(s.enable, false);
  assert.deepEqual(s.disabledLanguages, ['markdown']);
  assert.equal(s.maxTokens, 1);
  assert.equal(s.nCtx, 256);
  assert.equal(s.nThreads, 3);
  assert.equal(s.nGpuLayers, -1);
  assert.equal(s.temperature, 0);
  assert.equal(s.model, `${process.env.HOME}/m.gguf`);
  assert.equal(s.expertsUsed, 2);
  assert.equal(s.invokedItems, 10);
});

test('garbage types fall back to defaults', () => {
  const s = serverSettings(getter({
    maxTokens: 'lots', nCtx: null, disabledLanguages: null, temperature: 'x', securityLint: 1, enable: 0,
  }));
  assert.equal(s.maxTokens, 64);
  assert.equal(s.nCtx, 4096);
  assert.deepEqual(s.disabledLanguages, []);
  assert.equal(s.temperature, 0);
  assert.equal(s.securityLint, false);
  assert.equal(s.enable, true);
});

test('expandHome only touches a leading tilde', () => {
  assert.equal(expandHome('~/a', '/h'), '/h/a');
  assert.equal(expandHome('/x/~/a', '/h'), '/x/~/a');
  assert.equal(launchSettings(getter({ serverPath: ' ~/bin/s ' })).serverPath, `${process.env.HOME}/bin/s`);
});

test('only launch keys need a restart', () => {
  assert.equal(needsRestart((s) => s === 'smallcode.serverPath'), true);
  assert.equal(needsRestart((s) => s === 'smallcode.maxTokens'), false);
});

test('package.json contributes every setting the code reads', () => {
  const props = Object.keys(PKG.contributes.configuration.properties).map((k) => k.replace(/^smallcode\./, ''));
  for (const key of [...SERVER_KEYS, ...RESTART_KEYS]) {
    assert.ok(props.includes(key), `smallcode.${key} missing from contributes.configuration`);
  }
  for (const [key, spec] of Object.entries<Record<string, unknown>>(PKG.contributes.configuration.properties)) {
    assert.ok(typeof spec.description === 'string' && spec.scope, `${key} needs a description and a scope`);
  }
});

test('debounce collapses a burst into one call', async () => {
  const calls: number[] = [];
  const f = debounce((n: number) => calls.push(n), 20);
  f(1); f(2); f(3);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(calls, [3]);
  f(4); f.cancel();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(calls, [3]);
});
