import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseStatus, renderStatus, tokensPerSecond, withLastRun } from '../src/common/status';
import { asLspItem } from '../src/common/items';

const last = { promptTokens: 120, promptTokensEvaluated: 20, generatedTokens: 30, promptMs: 40, generateMs: 600, stopReason: 'stop' };

test('tokens per second from the last completion', () => {
  assert.equal(tokensPerSecond(last), 50);
  assert.equal(tokensPerSecond({ ...last, generateMs: 0 }), undefined);
  assert.equal(tokensPerSecond(null), undefined);
});

test('tooltip shows state, model, latency, speed and acceptance', () => {
  const v = renderStatus({
    state: 'ready', model: '/models/gemma-3-270m.gguf', error: null, last,
    acceptance: { shown: 4, accepted: 1, partiallyAccepted: 2, acceptedChars: 17 },
  });
  assert.equal(v.text, '$(sparkle) SmallCode');
  assert.equal(v.severity, undefined);
  assert.match(v.tooltip, /SmallCode: ready/);
  assert.match(v.tooltip, /Model: gemma-3-270m\.gguf/);
  assert.match(v.tooltip, /Last: 640 ms/);
  assert.match(v.tooltip, /50\.0 tokens\/s/);
  assert.match(v.tooltip, /Accepted: 1\/4 shown \(\+2 partly\), 17 chars/);
});

test('each state has its own icon; errors and disabled are coloured', () => {
  const texts = new Set(['loading', 'ready', 'generating', 'disabled', 'error'].map(
    (state) => renderStatus({ state: state as never, model: null, error: null, last: null }).text));
  assert.equal(texts.size, 5); // one icon per server state
  assert.equal(renderStatus({ state: 'error', model: null, error: 'no model', last: null }).severity, 'error');
  assert.match(renderStatus({ state: 'error', model: null, error: 'no model', last: null }).tooltip, /Error: no model/);
  assert.equal(renderStatus({ state: 'disabled', model: null, error: null, last: null }).severity, 'warning');
});

test('parseStatus rejects malformed payloads', () => {
  assert.equal(parseStatus(null), undefined);
  assert.equal(parseStatus({ state: 'exploded' }), undefined);
  assert.deepEqual(parseStatus({ state: 'ready', model: 3 }), {
    state: 'ready', model: null, error: null, last: null, acceptance: undefined, nextEdit: undefined, engine: undefined, engineUrl: null,
  });
  assert.equal(parseStatus({ state: 'ready', engine: 'elsewhere', engineUrl: 5 })?.engine, undefined);
});

test('asLspItem rebuilds insertText, range and command', () => {
  const range = { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } };
  const item = asLspItem({ insertText: { value: 'x = 1' }, range: {} as never, command: { title: 't', command: 'smallcode.accepted', arguments: ['id1'] } } as never,
    () => range);
  assert.deepEqual(item, { insertText: 'x = 1', range, command: { title: 't', command: 'smallcode.accepted', arguments: ['id1'] } });
});

test('the item says where the model runs: local in the tooltip, remote on the bar too', () => {
  const local = renderStatus({ ...parseStatus({ state: 'ready', engine: 'local', engineUrl: null })! });
  assert.equal(local.text, '$(sparkle) SmallCode');
  assert.match(local.tooltip, /^Engine: local \(in-process\)$/m);
  const remote = renderStatus({ ...parseStatus({ state: 'ready', engine: 'remote', engineUrl: 'http://gpu-box:8080' })! });
  assert.equal(remote.text, '$(sparkle) SmallCode (remote)');
  assert.match(remote.tooltip, /^Engine: remote, http:\/\/gpu-box:8080$/m);
  // A server that does not say (older versions): no engine line.
  assert.doesNotMatch(renderStatus({ state: 'ready', model: null, error: null, last: null }).tooltip, /Engine/);
});

test('an answer from the type-ahead cache keeps the model run before it in the tooltip', () => {
  const cache = { promptTokens: 0, promptTokensEvaluated: 0, generatedTokens: 0, promptMs: 0, generateMs: 0, stopReason: 'eog', fromCache: true };
  const ran = withLastRun({ state: 'starting', model: null, error: null, last: null }, { state: 'ready', model: null, error: null, last });
  assert.equal(ran.lastRun, last);
  const hit = withLastRun(ran, { state: 'ready', model: null, error: null, last: cache });
  assert.equal(hit.lastRun, last);
  const v = renderStatus(hit);
  assert.match(v.tooltip, /^Last: from the type-ahead cache \(no model work\)$/m);
  assert.match(v.tooltip, /^Model run before: 640 ms/m);
  assert.match(v.tooltip, /50\.0 tokens\/s/);
  // Before any model run: only the cache line.
  const first = renderStatus(withLastRun({ state: 'starting', model: null, error: null, last: null }, { ...hit, lastRun: undefined }));
  assert.doesNotMatch(first.tooltip, /tokens\/s|Model run/);
});

test('the tooltip counts next edits once one was shown', () => {
  const base = { state: 'ready', model: null, error: null, last: null };
  const v = renderStatus(parseStatus({ ...base, nextEdit: { shown: 3, accepted: 2, rejected: 1 } })!);
  assert.match(v.tooltip, /^Next edits: 2\/3 accepted, 1 dismissed$/m);
  assert.doesNotMatch(renderStatus(parseStatus({ ...base, nextEdit: { shown: 0, accepted: 0, rejected: 0 } })!).tooltip, /Next edits/);
  assert.deepEqual(parseStatus({ ...base, nextEdit: { shown: '2', accepted: 1 } })?.nextEdit, { shown: 0, accepted: 1, rejected: 0 });
  // smallcode/statusChanged has no next-edit counts: the ones from smallcode/status stay.
  const counted = withLastRun(parseStatus(base)!, parseStatus({ ...base, nextEdit: { shown: 1, accepted: 1, rejected: 0 } })!);
  assert.match(renderStatus(withLastRun(counted, parseStatus({ ...base, state: 'generating' })!)).tooltip, /^Next edits: 1\/1 accepted/m);
});
