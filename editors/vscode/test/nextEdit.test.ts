import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  editView, endOf, firstEdit, hintText, hoverMarkdown, itemFor, lineVisible, MAX_INLINE, NextEdit, skipReason, trimEdit,
} from '../src/common/nextEdit';

const URI = 'file:///ws/calc.py';
const pos = (line: number, character: number) => ({ line, character });
const edit = (text: string, start: [number, number], end: [number, number], version = 7): NextEdit => ({
  text, uri: URI, version, range: { start: pos(...start), end: pos(...end) },
  command: { title: 'Accept', command: 'smallcode.didAcceptNextEdit', arguments: ['ne-1'] },
});
const at = (line: number, character: number, version = 7) => ({ uri: URI, version, cursor: pos(line, character) });

test('firstEdit takes edits[0] of a well-formed answer', () => {
  const raw = {
    edits: [
      { text: 'print(result)', textDocument: { uri: URI, version: 7 }, range: { start: pos(1, 0), end: pos(1, 12) },
        command: { title: 'Accept', command: 'smallcode.didAcceptNextEdit', arguments: ['ne-1'] } },
      { text: 'other', textDocument: { uri: URI, version: 7 }, range: { start: pos(2, 0), end: pos(2, 1) } },
    ],
  };
  assert.deepEqual(firstEdit(raw), edit('print(result)', [1, 0], [1, 12]));
});

test('firstEdit rejects empty and malformed answers', () => {
  assert.equal(firstEdit(null), undefined);
  assert.equal(firstEdit({ edits: [] }), undefined);
  assert.equal(firstEdit({ edits: 'x' }), undefined);
  const ok = { text: 'x', textDocument: { uri: URI, version: 1 }, range: { start: pos(0, 0), end: pos(0, 1) } };
  assert.equal(firstEdit({ edits: [{ ...ok, text: 3 }] }), undefined);
  assert.equal(firstEdit({ edits: [{ ...ok, textDocument: { uri: URI } }] }), undefined);
  assert.equal(firstEdit({ edits: [{ ...ok, range: { start: pos(0, 2), end: pos(0, 1) } }] }), undefined); // reversed
  assert.equal(firstEdit({ edits: [{ ...ok, range: { start: pos(-1, 0), end: pos(0, 1) } }] }), undefined);
  // No command: still shown, the accept just has nothing to report.
  assert.equal(firstEdit({ edits: [ok] })?.command, undefined);
});

test('trimEdit keeps only what changes', () => {
  const e = edit('print(result)', [1, 0], [1, 12]);
  assert.deepEqual(trimEdit(e, 'print(value)'), { range: { start: pos(1, 6), end: pos(1, 11) }, text: 'result' });
  // Across lines: positions inside the old text count its line breaks.
  const multi = edit('a = 1\nb = 3\n', [4, 0], [6, 0]);
  assert.deepEqual(trimEdit(multi, 'a = 1\nb = 2\n'), { range: { start: pos(5, 4), end: pos(5, 5) }, text: '3' });
  // The shared end does not overlap the shared start: "aa" -> "aaa" is one "a" inserted.
  assert.deepEqual(trimEdit(edit('aaa', [0, 0], [0, 2]), 'aa'), { range: { start: pos(0, 2), end: pos(0, 2) }, text: 'a' });
  // A deletion.
  assert.deepEqual(trimEdit(edit('f(x)', [0, 0], [0, 7]), 'f(x, y)'), { range: { start: pos(0, 3), end: pos(0, 6) }, text: '' });
});

test('an edit is shown only for the document and version it was computed on', () => {
  const e = edit('print(result)', [1, 0], [1, 12]);
  assert.equal(skipReason(e, 'print(value)', at(0, 6)), undefined);
  assert.equal(skipReason(e, 'print(value)', at(0, 6, 8)), 'stale version');
  assert.equal(skipReason(e, 'print(value)', { ...at(0, 6), uri: 'file:///ws/other.py' }), 'another document');
  assert.equal(skipReason(edit('same', [0, 0], [0, 4]), 'same', at(3, 0)), 'no change');
});

test('a pure insertion at the cursor is left to inline completion', () => {
  assert.equal(skipReason(edit('(x)', [2, 5], [2, 5]), '', at(2, 5)), 'insertion at the cursor');
  // Also when the server sends it as a replacement of the line the cursor ends.
  assert.equal(skipReason(edit('foo(x)', [2, 0], [2, 4]), 'foo(', at(2, 4)), 'insertion at the cursor');
  // An insertion elsewhere, or a replacement at the cursor, is a next edit.
  assert.equal(skipReason(edit('(x)', [4, 5], [4, 5]), '', at(2, 5)), undefined);
  assert.equal(skipReason(edit('result', [2, 0], [2, 5]), 'value', at(2, 0)), undefined);
});

test('editView: the removed text struck through, the new text after it', () => {
  const v = editView(edit('print(result)', [1, 0], [1, 12]), 'print(value)');
  assert.deepEqual(v, { line: 1, deleted: { start: pos(1, 6), end: pos(1, 11) }, inserted: { at: pos(1, 11), text: 'result' } });
  // A pure insertion has nothing struck through; a deletion nothing after it.
  assert.deepEqual(editView(edit('x, ', [3, 4], [3, 4]), ''), { line: 3, inserted: { at: pos(3, 4), text: 'x, ' } });
  assert.deepEqual(editView(edit('', [3, 4], [3, 9]), 'y = 2'), { line: 3, deleted: { start: pos(3, 4), end: pos(3, 9) } });
});

test('editView: new text of several lines shows its first line and a count, the hover all of it', () => {
  const v = editView(edit('if x:\n    y()\n    z()', [2, 0], [2, 4]), 'pass');
  assert.deepEqual(v.deleted, { start: pos(2, 0), end: pos(2, 4) });
  assert.deepEqual(v.inserted, { at: pos(2, 4), text: 'if x:⏎ … (+2 lines)' });
  assert.equal(v.hover, 'if x:\n    y()\n    z()');
  assert.equal(editView(edit('a\nb', [0, 0], [0, 0]), '').inserted?.text, 'a⏎ … (+1 line)');
  // A long single line is cut inline; the hover has it whole.
  const long = 'x'.repeat(MAX_INLINE + 10);
  const lv = editView(edit(long, [0, 0], [0, 1]), 'y');
  assert.equal(lv.inserted?.text.length, MAX_INLINE);
  assert.equal(lv.hover, long);
  assert.equal(editView(edit('print(result)', [1, 0], [1, 12]), 'print(value)').hover, undefined);
});

test('endOf: where the cursor goes after the accept', () => {
  assert.deepEqual(endOf(pos(1, 0), 'print(result)'), pos(1, 13));
  assert.deepEqual(endOf(pos(1, 4), 'a\nbc'), pos(2, 2));
  assert.deepEqual(endOf(pos(1, 4), 'a\r\nbc\n'), pos(3, 0));
  assert.deepEqual(endOf(pos(1, 4), ''), pos(1, 4));
});

test('the off-screen hint names the 1-based line; visibility is by line span', () => {
  assert.equal(hintText(41), '⇥ next edit: line 42 (Tab)');
  assert.equal(lineVisible(41, [{ start: 0, end: 30 }]), false);
  assert.equal(lineVisible(41, [{ start: 0, end: 30 }, { start: 40, end: 60 }]), true);
  assert.equal(lineVisible(30, [{ start: 0, end: 30 }]), true);
});

test('itemFor echoes the item with its id for the show/reject notifications', () => {
  const item = itemFor(edit('print(result)', [1, 0], [1, 12]));
  assert.deepEqual(item.command.arguments, ['ne-1']);
  assert.deepEqual(item.textDocument, { uri: URI, version: 7 });
  assert.deepEqual(itemFor({ ...edit('x', [0, 0], [0, 0]), command: undefined }).command.arguments, []);
});

test('hoverMarkdown fences the new text in the document language', () => {
  assert.match(hoverMarkdown('a = 1', 'python'), /```python\na = 1\n```$/);
  assert.match(hoverMarkdown('s = """```"""', 'python'), /````python\n/); // a fence inside
});
