// Tells the server where the cursor rests (smallcode/didMoveCursor), so it can prefill that
// spot's prompt before the first keystroke there.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { debounce } from './settings';

export const DID_MOVE_CURSOR = 'smallcode/didMoveCursor';

/**
 * Sends the active editor's cursor after it stops moving (clicks, arrow keys, go-to-definition,
 * search), on a change of editor, when the window regains focus, and once at the start: the
 * cursor may have come to rest before the client ran (moves then were not sent). Not for typing: a
 * selection change that comes with a new document version is an edit, and a keystroke sends
 * its own request. (The event's `kind` does not tell: it may be undefined for key moves.)
 */
export function watchCursor(client: LanguageClient, delayMs = 100): vscode.Disposable {
  const versions = new Map<string, number>();
  const send = debounce(() => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !client.isRunning()) {
      return;
    }
    const c2p = client.code2ProtocolConverter;
    client.sendNotification(DID_MOVE_CURSOR, {
      textDocument: c2p.asTextDocumentIdentifier(editor.document),
      position: c2p.asPosition(editor.selection.active),
    }).catch(() => undefined);
  }, delayMs);
  send();
  return vscode.Disposable.from(
    { dispose: () => send.cancel() },
    vscode.window.onDidChangeTextEditorSelection((e) => {
      const uri = e.textEditor.document.uri.toString();
      const version = e.textEditor.document.version;
      const edited = versions.has(uri) && versions.get(uri) !== version;
      versions.set(uri, version);
      if (!edited) {
        send();
      }
    }),
    vscode.window.onDidChangeActiveTextEditor(() => send()),
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) {
        send();
      }
    }),
  );
}
