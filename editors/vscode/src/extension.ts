// Activation only; everything else lives in src/common.
import * as vscode from 'vscode';
import { SmallcodeClient } from './common/client';
import { NextEditController } from './common/nextEditView';

let client: SmallcodeClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  client = new SmallcodeClient(context);
  context.subscriptions.push(client, new NextEditController(client));
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
