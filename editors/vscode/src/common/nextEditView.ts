// Next-edit suggestions in the editor: asks after an edit, draws the answer with decorations
// (the proposed inline-edit API is closed to published extensions), accepts with Tab and
// dismisses with Escape. What to show and how is decided in nextEdit.ts.
import * as vscode from 'vscode';
import { ErrorCodes, ExecuteCommandRequest, LanguageClient, ResponseError } from 'vscode-languageclient/node';
import {
  DID_REJECT_INLINE_EDIT, DID_SHOW_INLINE_EDIT, EditView, editView, endOf, firstEdit, hintText,
  hoverMarkdown, INLINE_EDIT_REQUEST, itemFor, lineVisible, LspPosition, NextEdit, skipReason, VISIBLE_CONTEXT,
} from './nextEdit';

export const ACCEPT_COMMAND = 'smallcode.acceptNextEdit';
export const DISMISS_COMMAND = 'smallcode.dismissNextEdit';

/** What the controller needs from the extension's client owner. */
export interface NextEditHost {
  readonly log: vscode.LogOutputChannel;
  /** The language client while it runs, else undefined. */
  running(): LanguageClient | undefined;
  /** An accept changed the server's counts: refresh the status item. */
  statusChanged(): void;
}

interface Shown {
  edit: NextEdit;
  editor: vscode.TextEditor;
  view: EditView;
}

const SCHEMES = new Set(['file', 'untitled']); // the client's documentSelector

function position(p: LspPosition): vscode.Position {
  return new vscode.Position(p.line, p.character);
}

function range(r: { start: LspPosition; end: LspPosition }): vscode.Range {
  return new vscode.Range(position(r.start), position(r.end));
}

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('smallcode');
}

export class NextEditController implements vscode.Disposable {
  private readonly deleted = vscode.window.createTextEditorDecorationType({
    textDecoration: 'line-through',
    backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editor.foreground'),
      backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
    },
  });
  private readonly hint = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorGhostText.foreground'), fontStyle: 'italic', margin: '0 0 0 2em' },
  });
  /** No style: carries the hover over the edit's lines (a pure insertion has no range of its own). */
  private readonly hover = vscode.window.createTextEditorDecorationType({});
  private readonly disposables: vscode.Disposable[];
  private shown: Shown | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A server without the request (MethodNotFound) is not asked again until it restarts. */
  private unsupportedBy: LanguageClient | undefined;

  constructor(private readonly host: NextEditHost) {
    this.disposables = [
      this.deleted, this.inserted, this.hint, this.hover,
      vscode.commands.registerCommand(ACCEPT_COMMAND, () => this.accept()),
      vscode.commands.registerCommand(DISMISS_COMMAND, () => this.dismiss()),
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.window.onDidChangeActiveTextEditor(() => { this.cancel(); this.clear(); }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.rerender(e.textEditor)),
      vscode.window.onDidChangeTextEditorSelection((e) => this.rerender(e.textEditor)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('smallcode.nextEdit') && !this.enabled()) {
          this.cancel();
          this.clear();
        }
      }),
    ];
  }

  private enabled(): boolean {
    return config().get<boolean>('nextEdit', true) !== false;
  }

  /** A text change: the shown edit no longer applies; ask again once the typing pauses. */
  private changed(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) {
      return; // dirty-state only
    }
    if (this.shown && this.shown.editor.document === e.document) {
      this.clear();
    }
    if (vscode.window.activeTextEditor?.document === e.document) {
      this.schedule();
    }
  }

  /** A newer change cancels the pending request and restarts the pause. */
  private schedule(): void {
    this.cancel();
    if (!this.enabled()) {
      return;
    }
    const ms = Math.max(0, Number(config().get<number>('nextEditDebounceMs', 150)) || 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.request();
    }, ms);
  }

  private cancel(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pending?.cancel();
    this.pending = undefined;
  }

  private async request(): Promise<void> {
    const client = this.host.running();
    const editor = vscode.window.activeTextEditor;
    if (!client || client === this.unsupportedBy || !editor || !SCHEMES.has(editor.document.uri.scheme)) {
      return;
    }
    const source = new vscode.CancellationTokenSource();
    this.pending = source;
    const doc = editor.document;
    const version = doc.version;
    const c2p = client.code2ProtocolConverter;
    const params = { textDocument: c2p.asVersionedTextDocumentIdentifier(doc), position: c2p.asPosition(editor.selection.active) };
    const raw = await client.sendRequest<unknown>(INLINE_EDIT_REQUEST, params, source.token).catch((err: unknown) => {
      if (err instanceof ResponseError && err.code === ErrorCodes.MethodNotFound) {
        this.unsupportedBy = client;
      } else if (!source.token.isCancellationRequested) {
        this.host.log.warn(`${INLINE_EDIT_REQUEST} failed: ${String(err)}`);
      }
      return undefined;
    });
    const stale = source.token.isCancellationRequested || this.pending !== source;
    if (this.pending === source) {
      this.pending = undefined;
    }
    source.dispose();
    // Dropped when a newer change asked again, or the editor or text moved on meanwhile.
    if (!stale && vscode.window.activeTextEditor === editor && doc.version === version) {
      this.show(client, editor, raw);
    }
  }

  private show(client: LanguageClient, editor: vscode.TextEditor, raw: unknown): void {
    const edit = firstEdit(raw);
    const doc = editor.document;
    if (!edit) {
      return;
    }
    const target = range(edit.range);
    if (!doc.validateRange(target).isEqual(target)) {
      this.host.log.warn(`next edit outside the document: ${JSON.stringify(edit.range)}`);
      return;
    }
    const old = doc.getText(target);
    const c2p = client.code2ProtocolConverter;
    const state = { uri: c2p.asUri(doc.uri), version: doc.version, cursor: c2p.asPosition(editor.selection.active) };
    const reason = skipReason(edit, old, state);
    if (reason) {
      this.host.log.debug(`next edit not shown: ${reason}`);
      return;
    }
    this.clear();
    this.shown = { edit, editor, view: editView(edit, old) };
    this.render(this.shown);
    void vscode.commands.executeCommand('setContext', VISIBLE_CONTEXT, true);
    client.sendNotification(DID_SHOW_INLINE_EDIT, { item: itemFor(edit) }).catch(() => undefined);
  }

  /** The off-screen hint follows the cursor and the scrolling. */
  private rerender(editor: vscode.TextEditor): void {
    if (this.shown && this.shown.editor === editor) {
      this.render(this.shown);
    }
  }

  private render({ editor, view }: Shown): void {
    const doc = editor.document;
    const hover = view.hover !== undefined ? new vscode.MarkdownString(hoverMarkdown(view.hover, doc.languageId)) : undefined;
    editor.setDecorations(this.deleted, view.deleted ? [range(view.deleted)] : []);
    editor.setDecorations(this.inserted, view.inserted ? [{
      range: range({ start: view.inserted.at, end: view.inserted.at }),
      renderOptions: { after: { contentText: view.inserted.text } },
    }] : []);
    const lastLine = view.deleted?.end.line ?? view.line;
    editor.setDecorations(this.hover, hover ? [{
      range: new vscode.Range(view.line, 0, lastLine, doc.lineAt(lastLine).text.length),
      hoverMessage: hover,
    }] : []);
    const visible = lineVisible(view.line, editor.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line })));
    const cursorEnd = doc.lineAt(editor.selection.active.line).range.end;
    editor.setDecorations(this.hint, visible ? [] : [{
      range: new vscode.Range(cursorEnd, cursorEnd),
      renderOptions: { after: { contentText: hintText(view.line) } },
    }]);
  }

  private clear(): void {
    const shown = this.shown;
    if (!shown) {
      return;
    }
    this.shown = undefined;
    for (const type of [this.deleted, this.inserted, this.hint, this.hover]) {
      shown.editor.setDecorations(type, []);
    }
    void vscode.commands.executeCommand('setContext', VISIBLE_CONTEXT, false);
  }

  /** Tab: apply the edit, put the cursor after the new text, then tell the server (it counts it). */
  private async accept(): Promise<void> {
    const shown = this.shown;
    if (!shown) {
      return;
    }
    this.clear();
    const { editor, edit } = shown;
    if (editor.document.isClosed || editor.document.version !== edit.version) {
      return; // the text it was computed on is gone
    }
    if (!await editor.edit((b) => b.replace(range(edit.range), edit.text))) {
      this.host.log.warn('next edit: the editor refused the edit');
      return;
    }
    const end = position(endOf(edit.range.start, edit.text));
    editor.selection = new vscode.Selection(end, end);
    editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    const client = this.host.running();
    if (edit.command && client) {
      await client.sendRequest(ExecuteCommandRequest.type, { command: edit.command.command, arguments: edit.command.arguments })
        .catch((err: unknown) => this.host.log.warn(`${edit.command?.command} failed: ${String(err)}`));
      this.host.statusChanged();
    }
  }

  /** Escape: clear, and tell the server the user turned it down. */
  private dismiss(): void {
    const shown = this.shown;
    if (!shown) {
      return;
    }
    this.clear();
    this.host.running()?.sendNotification(DID_REJECT_INLINE_EDIT, { item: itemFor(shown.edit) }).catch(() => undefined);
  }

  dispose(): void {
    this.cancel();
    this.clear();
    this.disposables.forEach((d) => d.dispose());
  }
}
