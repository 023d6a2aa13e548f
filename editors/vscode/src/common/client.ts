// Owns the language client: start, restart, settings push, status, commands.
import * as fs from 'fs';
import * as readline from 'readline';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State as ClientState,
} from 'vscode-languageclient/node';
import { executable, resolveLaunch } from './launch';
import { debounce, launchSettings, needsRestart, serverSettings, SERVER_KEYS } from './settings';
import { parseStatus, renderStatus, StatusPayload, withLastRun } from './status';
import { asLspItem } from './items';
import { watchCursor } from './cursor';
import { ServerLogParser } from './serverlog';

const SECTION = 'smallcode';
const ACCEPTED = 'smallcode.accepted';

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

function lines(input: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', each);
}

export class SmallcodeClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  readonly log: vscode.LogOutputChannel;
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private status: StatusPayload = { state: 'starting', model: null, error: null, last: null };
  /**
   * `smallcode/statusChanged` comes on state changes only: its `last` is the completion before
   * the one that just ended, and an accept or an answer from the type-ahead cache sends none.
   * Ask for the status once completions and accepts pause.
   */
  private readonly refreshSoon = debounce(() => void this.refreshStatus(), 300);

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('SmallCode', { log: true });
    this.item = vscode.window.createStatusBarItem('smallcode.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'SmallCode';
    this.item.command = 'smallcode.menu';
    this.disposables.push(this.log, this.item);
    this.render();
    this.item.show();

    const restartSoon = debounce(() => void this.restart(), 500);
    const pushSoon = debounce(() => void this.pushSettings(), 200);
    this.disposables.push(
      { dispose: () => { restartSoon.cancel(); pushSoon.cancel(); this.refreshSoon.cancel(); } },
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) {
          return;
        }
        if (needsRestart((s) => e.affectsConfiguration(s))) {
          restartSoon();
        } else if (SERVER_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
          pushSoon();
        }
      }),
      vscode.commands.registerCommand('smallcode.toggle', () => this.toggle()),
      vscode.commands.registerCommand('smallcode.restart', () => this.restart()),
      vscode.commands.registerCommand('smallcode.showLog', () => this.log.show()),
      vscode.commands.registerCommand('smallcode.trigger', () =>
        vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
      vscode.commands.registerCommand('smallcode.menu', () => this.menu()),
      vscode.commands.registerCommand('smallcode.status', () => this.status),
    );
  }

  /** Starts the server; failures are logged and shown, never thrown. */
  async start(): Promise<void> {
    const launch = resolveLaunch(launchSettings(config().get.bind(config())), (f) => fs.existsSync(f));
    this.log.info(`starting ${launch.command} ${launch.args.join(' ')}`);
    const serverOptions: ServerOptions = executable(launch);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: serverSettings(config().get.bind(config())),
      outputChannel: this.log,
      // The server's log lines at their own level (the client's default logs stderr as errors).
      stdioOptions: {
        stdout: (input, channel) => lines(input, (text) => channel.info(text)),
        stderr: (input, channel) => {
          const parser = new ServerLogParser();
          lines(input, (text) => {
            const { level, message } = parser.line(text);
            channel[level](message);
          });
        },
      },
      middleware: {
        provideInlineCompletionItems: async (document, position, ctx, token, next) => {
          const result = await next(document, position, ctx, token);
          const items = Array.isArray(result) ? result : result?.items;
          const first = items?.[0];
          const client = this.client;
          if (first && client && !token.isCancellationRequested) {
            // VS Code's stable API does not report "shown"; a returned, uncancelled item is the
            // closest signal and what the server counts as shown.
            client.sendNotification('textDocument/didShowCompletion', {
              item: asLspItem(first, client.code2ProtocolConverter.asRange.bind(client.code2ProtocolConverter)),
            }).catch(() => undefined);
          }
          if (!token.isCancellationRequested) {
            this.refreshSoon();
          }
          return result;
        },
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          this.refreshSoon(); // smallcode.accepted: the acceptance counts changed
          return result;
        },
      },
    };
    const client = new LanguageClient('smallcode', 'SmallCode', serverOptions, clientOptions);
    this.client = client;
    this.setStatus({ state: 'starting', model: null, error: null, last: null });
    this.clientDisposables.push(
      client.onNotification('smallcode/statusChanged', (raw: unknown) => {
        const s = parseStatus(raw);
        if (s) {
          this.setStatus(s);
        }
      }),
      client.onDidChangeState((e) => {
        if (e.newState === ClientState.Stopped && this.client === client) {
          this.setStatus({ ...this.status, state: 'stopped' });
        }
      }),
    );
    try {
      await client.start();
    } catch (err) {
      this.log.error(`server failed to start: ${String(err)}`);
      this.setStatus({ state: 'error', model: null, error: `cannot start ${launch.command}: ${String(err)}`, last: null });
      return;
    }
    this.registerAcceptForwarder(client);
    this.clientDisposables.push(watchCursor(client));
    await this.refreshStatus();
  }

  /** Items carry `smallcode.accepted`; forward it when the client did not register it itself. */
  private registerAcceptForwarder(client: LanguageClient): void {
    const commands = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (commands.includes(ACCEPTED)) {
      return; // vscode-languageclient's ExecuteCommandFeature already forwards it.
    }
    this.clientDisposables.push(vscode.commands.registerCommand(ACCEPTED, (...args: unknown[]) =>
      client.sendRequest('workspace/executeCommand', { command: ACCEPTED, arguments: args })
        .then(() => this.refreshSoon())
        .catch((err) => this.log.warn(`${ACCEPTED} failed: ${String(err)}`))));
  }

  /** The language client while it runs (next edits ask through it). */
  running(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  /** Something changed the server's counts outside the middleware (a next edit's accept). */
  statusChanged(): void {
    this.refreshSoon();
  }

  async refreshStatus(): Promise<void> {
    const client = this.client;
    if (!client || !client.isRunning()) {
      return;
    }
    try {
      const s = parseStatus(await client.sendRequest('smallcode/status', {}));
      if (s) {
        this.setStatus(s);
      }
    } catch (err) {
      this.log.warn(`smallcode/status failed: ${String(err)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientDisposables.forEach((d) => d.dispose());
    this.clientDisposables = [];
    if (client) {
      try {
        await client.stop(2000);
      } catch (err) {
        this.log.warn(`stop: ${String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async pushSettings(): Promise<void> {
    const client = this.client;
    if (!client || !client.isRunning()) {
      return;
    }
    const settings = serverSettings(config().get.bind(config()));
    this.log.info(`settings: ${JSON.stringify(settings)}`);
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: settings } });
    await this.refreshStatus();
  }

  async toggle(): Promise<void> {
    const enabled = config().get<boolean>('enable', true);
    await config().update('enable', !enabled, vscode.ConfigurationTarget.Global);
  }

  private async menu(): Promise<void> {
    const enabled = config().get<boolean>('enable', true);
    const picks: (vscode.QuickPickItem & { run: () => unknown })[] = [
      { label: enabled ? '$(circle-slash) Disable completions' : '$(check) Enable completions', run: () => this.toggle() },
      { label: '$(debug-restart) Restart server', run: () => this.restart() },
      { label: '$(output) Show log', run: () => this.log.show() },
      { label: '$(sparkle) Trigger suggestion', run: () => vscode.commands.executeCommand('smallcode.trigger') },
    ];
    const pick = await vscode.window.showQuickPick(picks, { title: 'SmallCode', placeHolder: renderStatus(this.status).tooltip.split('\n')[0] });
    await pick?.run();
  }

  private setStatus(s: StatusPayload): void {
    this.status = withLastRun(this.status, s);
    this.render();
  }

  private render(): void {
    const view = renderStatus(this.status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.severity
      ? new vscode.ThemeColor(view.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground')
      : undefined;
  }

  dispose(): void {
    void this.stop();
    this.disposables.forEach((d) => d.dispose());
  }
}
