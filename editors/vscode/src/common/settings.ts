// Pure settings logic: no `vscode` import, so node's test runner can load it.

/** Settings the server understands (initializationOptions / didChangeConfiguration). */
export interface ServerSettings {
  enable: boolean;
  disabledLanguages: string[];
  model?: string;
  maxTokens: number;
  nCtx: number;
  nThreads: number;
  nGpuLayers: number;
  temperature: number;
  expertsUsed: number;
}

/** The subset of `smallcode.*` the extension itself uses to start the server. */
export interface LaunchSettings {
  serverPath: string;
  pythonPath: string;
}

/** Reads one `smallcode.<key>` value; `vscode.WorkspaceConfiguration.get` fits. */
export type Getter = <T>(key: string, fallback: T) => T;

/** Keys whose change needs a new server process rather than a settings push. */
export const RESTART_KEYS: readonly string[] = ['serverPath', 'pythonPath', 'trace.server'];

/** Keys pushed to the running server. */
export const SERVER_KEYS: readonly (keyof ServerSettings)[] = [
  'enable', 'disabledLanguages', 'model', 'maxTokens', 'nCtx', 'nThreads', 'nGpuLayers',
  'temperature', 'expertsUsed',
];

function intOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

/** Builds the server payload from `smallcode.*`, leaving empty optional values out. */
export function serverSettings(get: Getter): ServerSettings {
  const out: ServerSettings = {
    enable: get<boolean>('enable', true) !== false,
    disabledLanguages: (get<unknown>('disabledLanguages', []) as unknown[] ?? [])
      .filter((x): x is string => typeof x === 'string' && x.length > 0),
    maxTokens: Math.max(1, intOr(get('maxTokens', 64), 64)),
    nCtx: Math.max(256, intOr(get('nCtx', 4096), 4096)),
    nThreads: Math.max(0, intOr(get('nThreads', 0), 0)),
    nGpuLayers: Math.max(-1, intOr(get('nGpuLayers', 0), 0)),
    temperature: Math.max(0, Number(get('temperature', 0)) || 0),
    expertsUsed: Math.max(0, intOr(get('expertsUsed', 0), 0)),
  };
  const model = String(get('model', '') ?? '').trim();
  if (model) {
    out.model = expandHome(model);
  }
  return out;
}

export function launchSettings(get: Getter): LaunchSettings {
  return {
    serverPath: expandHome(String(get('serverPath', '') ?? '').trim()),
    pythonPath: expandHome(String(get('pythonPath', '') ?? '').trim()),
  };
}

/** `~/x` -> `$HOME/x`; VS Code does not expand it in settings. */
export function expandHome(path: string, home: string = process.env.HOME ?? process.env.USERPROFILE ?? ''): string {
  if (home && (path === '~' || path.startsWith('~/') || path.startsWith('~\\'))) {
    return home + path.slice(1);
  }
  return path;
}

/** True when a configuration change touches a key that needs a restart. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`smallcode.${key}`));
}

/** Collapses a burst of calls into one call `ms` after the last. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wrapped = (...args: A): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, ms);
  };
  wrapped.cancel = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
  };
  return wrapped;
}
