// Pure settings logic: no `vscode` import, so node's test runner can load it.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** One `contributes.configuration` property: the JSON-schema subset package.json uses. */
export interface SettingSchema {
  type: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

/** Settings the server understands (initializationOptions / didChangeConfiguration), flat camelCase. */
export type ServerSettings = Record<string, boolean | number | string | string[]>;

/** The subset of `smallcode.*` the extension itself uses to start the server. */
export interface LaunchSettings {
  serverPath: string;
  pythonPath: string;
}

/** Reads one `smallcode.<key>` value; `vscode.WorkspaceConfiguration.get` fits. */
export type Getter = <T>(key: string, fallback: T) => T;

/** Keys whose change needs a new server process rather than a settings push. */
export const RESTART_KEYS: readonly string[] = ['serverPath', 'pythonPath', 'trace.server'];

/** package.json's `contributes.configuration.properties`, keys without `smallcode.`. */
export function contributedSettings(
  file: string = path.join(__dirname, '..', '..', '..', 'package.json'),
): Record<string, SettingSchema> {
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  const props: Record<string, SettingSchema> = pkg.contributes.configuration.properties;
  return Object.fromEntries(Object.entries(props).map(([key, spec]) => [key.replace(/^smallcode\./, ''), spec]));
}

/**
 * Server settings: every contributed setting the extension does not use itself. package.json
 * gets them from smallcode_lsp/options.py (scripts/sync_editor_settings.py), so the keys,
 * defaults and bounds here are the server's.
 */
export const SERVER_SCHEMA: Readonly<Record<string, SettingSchema>> = Object.fromEntries(
  Object.entries(contributedSettings()).filter(([key]) => !RESTART_KEYS.includes(key)),
);

/** Keys pushed to the running server. */
export const SERVER_KEYS: readonly string[] = Object.keys(SERVER_SCHEMA);

function clamp(value: number, spec: SettingSchema): number {
  return Math.min(spec.maximum ?? Infinity, Math.max(spec.minimum ?? -Infinity, value));
}

/** `value` fitted to `spec`: wrong types give the default; undefined leaves the key out. */
function fit(value: unknown, spec: SettingSchema): boolean | number | string | string[] | undefined {
  const fallback = spec.default;
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : Boolean(fallback);
    case 'integer':
    case 'number': {
      const ok = typeof value === 'number' && Number.isFinite(value);
      const n = ok ? value : Number(fallback ?? 0);
      return clamp(spec.type === 'integer' ? Math.trunc(n) : n, spec);
    }
    case 'array':
      return (Array.isArray(value) ? value : [])
        .filter((x): x is string => typeof x === 'string' && x.length > 0);
    case 'string': {
      // The server's string settings are paths (model); empty means its default.
      const text = typeof value === 'string' ? value.trim() : '';
      return text ? expandHome(text) : undefined;
    }
    default:
      return undefined;
  }
}

/** Builds the server payload from `smallcode.*`, leaving empty optional values out. */
export function serverSettings(get: Getter): ServerSettings {
  const out: ServerSettings = {};
  for (const [key, spec] of Object.entries(SERVER_SCHEMA)) {
    const value = fit(get<unknown>(key, spec.default), spec);
    if (value !== undefined) {
      out[key] = value;
    }
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
