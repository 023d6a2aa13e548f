// vscode.InlineCompletionItem -> the LSP item the server gave (for didShowCompletion).
import type * as vscode from 'vscode';

export interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface LspInlineItem {
  insertText: string;
  range?: LspRange;
  command?: { title: string; command: string; arguments?: unknown[] };
}

/** Rebuilds the LSP form of an item; snippet strings are sent as their raw value. */
export function asLspItem(item: vscode.InlineCompletionItem, asRange: (r: vscode.Range) => LspRange): LspInlineItem {
  const text = item.insertText;
  const out: LspInlineItem = { insertText: typeof text === 'string' ? text : text.value };
  if (item.range) {
    out.range = asRange(item.range);
  }
  if (item.command) {
    out.command = { title: item.command.title, command: item.command.command, arguments: item.command.arguments };
  }
  return out;
}
