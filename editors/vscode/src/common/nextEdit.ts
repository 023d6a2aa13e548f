// Next-edit suggestions (`textDocument/copilotInlineEdit`): which answer to show and how to draw
// it with the stable decoration API. Pure, no `vscode` import; nextEditView.ts renders it.
import type { LspRange } from './items';

export const INLINE_EDIT_REQUEST = 'textDocument/copilotInlineEdit';
export const DID_SHOW_INLINE_EDIT = 'textDocument/didShowInlineEdit';
export const DID_REJECT_INLINE_EDIT = 'smallcode/didRejectInlineEdit';
export const VISIBLE_CONTEXT = 'smallcode.nextEditVisible';

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}

/** One edit of the server's answer: replace `range` of document `uri` at `version` by `text`. */
export interface NextEdit {
  text: string;
  uri: string;
  version: number;
  range: LspRange;
  command?: LspCommand;
}

/** The document and cursor the answer is checked against when it arrives. */
export interface EditorState {
  uri: string;
  version: number;
  cursor: LspPosition;
}

/** What to draw: struck-through text, the new text after it, and where the edit starts. */
export interface EditView {
  /** The text the edit removes, struck through; undefined for a pure insertion. */
  deleted?: LspRange;
  /** Where the new text is drawn (an `after` decoration) and what it says; undefined: none. */
  inserted?: { at: LspPosition; text: string };
  /** The whole new text, for the hover, when the inline part cannot show it all. */
  hover?: string;
  /** The first line the edit touches (the off-screen hint names it). */
  line: number;
}

function isPosition(raw: unknown): raw is LspPosition {
  const p = raw as LspPosition | null;
  return !!p && Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0;
}

function isRange(raw: unknown): raw is LspRange {
  const r = raw as LspRange | null;
  return !!r && isPosition(r.start) && isPosition(r.end) && compare(r.start, r.end) <= 0;
}

function isCommand(raw: unknown): raw is LspCommand {
  const c = raw as LspCommand | null;
  return !!c && typeof c.command === 'string' && (c.arguments === undefined || Array.isArray(c.arguments));
}

/** The answer's first well-formed edit (the protocol says: use edits[0] only), else undefined. */
export function firstEdit(raw: unknown): NextEdit | undefined {
  const edits = (raw as { edits?: unknown } | null)?.edits;
  const e = (Array.isArray(edits) ? edits[0] : undefined) as Record<string, unknown> | undefined;
  const doc = e?.textDocument as { uri?: unknown; version?: unknown } | undefined;
  if (!e || typeof e.text !== 'string' || !isRange(e.range) || typeof doc?.uri !== 'string' ||
      !Number.isInteger(doc.version)) {
    return undefined; // a server bug must not break the editor
  }
  const out: NextEdit = { text: e.text, uri: doc.uri, version: doc.version as number, range: e.range };
  if (isCommand(e.command)) {
    out.command = { title: String(e.command.title ?? ''), command: e.command.command, arguments: e.command.arguments };
  }
  return out;
}

export function compare(a: LspPosition, b: LspPosition): number {
  return a.line - b.line || a.character - b.character;
}

/** The position `text` ends at when it is written from `start`. */
export function endOf(start: LspPosition, text: string): LspPosition {
  const lines = text.split(/\r\n|\r|\n/);
  const last = lines[lines.length - 1];
  return lines.length === 1
    ? { line: start.line, character: start.character + last.length }
    : { line: start.line + lines.length - 1, character: last.length };
}

/** The position `offset` UTF-16 units into `text`, which starts at `start`. */
function positionIn(start: LspPosition, text: string, offset: number): LspPosition {
  return endOf(start, text.slice(0, offset));
}

/**
 * The edit without the text old and new share at both ends: `print(value)` -> `print(result)`
 * shows `value` struck through and `result`, not the whole line twice. `old` is the document's
 * text in `edit.range`. The shared end is never taken from inside the shared start.
 */
export function trimEdit(edit: NextEdit, old: string): { range: LspRange; text: string } {
  const next = edit.text;
  let head = 0;
  while (head < old.length && head < next.length && old[head] === next[head]) {
    head++;
  }
  let tail = 0;
  while (tail < old.length - head && tail < next.length - head &&
         old[old.length - 1 - tail] === next[next.length - 1 - tail]) {
    tail++;
  }
  const start = positionIn(edit.range.start, old, head);
  const end = positionIn(edit.range.start, old, old.length - tail);
  return { range: { start, end }, text: next.slice(head, next.length - tail) };
}

/**
 * Why the edit is not shown, or undefined to show it: another document or version (the text it
 * was computed on is gone), no change at all, or a pure insertion at the cursor, which inline
 * completion covers (its ghost text is the better view, and Tab is already its key).
 */
export function skipReason(edit: NextEdit, old: string, state: EditorState): string | undefined {
  if (edit.uri !== state.uri) {
    return 'another document';
  }
  if (edit.version !== state.version) {
    return 'stale version';
  }
  const shown = trimEdit(edit, old);
  const insertion = compare(shown.range.start, shown.range.end) === 0;
  if (insertion && !shown.text) {
    return 'no change';
  }
  if (insertion && compare(shown.range.start, state.cursor) === 0) {
    return 'insertion at the cursor';
  }
  return undefined;
}

/** Longest `after` text drawn inline; the hover has the rest. */
export const MAX_INLINE = 80;

/**
 * The decoration pieces: the removed text struck through, the new text after it. A decoration
 * cannot break a line, so new text of several lines shows its first line and a count inline,
 * and the whole of it in the hover.
 */
export function editView(edit: NextEdit, old: string): EditView {
  const shown = trimEdit(edit, old);
  const view: EditView = { line: shown.range.start.line };
  if (compare(shown.range.start, shown.range.end) < 0) {
    view.deleted = shown.range;
  }
  const lines = shown.text.split(/\r\n|\r|\n/);
  let inline = lines[0];
  if (lines.length > 1) {
    inline = `${inline}⏎ … (+${lines.length - 1} line${lines.length > 2 ? 's' : ''})`;
  }
  if (inline.length > MAX_INLINE) {
    inline = `${inline.slice(0, MAX_INLINE - 1)}…`;
  }
  if (shown.text) {
    view.inserted = { at: shown.range.end, text: inline };
  }
  if (lines.length > 1 || lines[0].length > MAX_INLINE) {
    view.hover = shown.text;
  }
  return view;
}

/** The hint drawn at the cursor's line when the edit is off screen (`line` 0-based). */
export function hintText(line: number): string {
  return `⇥ next edit: line ${line + 1} (Tab)`;
}

/** True when `line` is inside one of the visible line spans (inclusive, 0-based). */
export function lineVisible(line: number, visible: readonly { start: number; end: number }[]): boolean {
  return visible.some((r) => r.start <= line && line <= r.end);
}

/** The item as the server sent it, for `didShowInlineEdit` / `didRejectInlineEdit`: the server
 * finds it by its command's first argument (the id). */
export function itemFor(edit: NextEdit): {
  text: string; textDocument: { uri: string; version: number }; range: LspRange; command: LspCommand & { arguments: unknown[] };
} {
  return {
    text: edit.text,
    textDocument: { uri: edit.uri, version: edit.version },
    range: edit.range,
    command: { title: edit.command?.title ?? '', command: edit.command?.command ?? '', arguments: edit.command?.arguments ?? [] },
  };
}

/** The hover's markdown: the new text as a code block in the document's language. */
export function hoverMarkdown(text: string, languageId: string): string {
  const fence = text.includes('```') ? '````' : '```';
  return `**Next edit** (Tab to accept, Esc to dismiss)\n\n${fence}${languageId}\n${text}\n${fence}`;
}
