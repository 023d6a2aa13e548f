// Which command starts the server. Pure: the file check is injected.
import * as path from 'path';
import { LaunchSettings } from './settings';

export interface Launch {
  command: string;
  args: string[];
}

/** The `-c` form works whether or not the package has a `__main__`. */
const PY_MAIN = 'import sys; from smallcode_lsp.cli import main; sys.exit(main())';

/**
 * serverPath wins; then the `smallcode-lsp` script beside pythonPath (a venv),
 * then pythonPath running the CLI module; then `smallcode-lsp` on PATH.
 */
export function resolveLaunch(
  settings: LaunchSettings,
  exists: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): Launch {
  if (settings.serverPath) {
    return { command: settings.serverPath, args: ['serve'] };
  }
  if (settings.pythonPath) {
    const script = platform === 'win32' ? 'smallcode-lsp.exe' : 'smallcode-lsp';
    const sibling = path.join(path.dirname(settings.pythonPath), script);
    if (exists(sibling)) {
      return { command: sibling, args: ['serve'] };
    }
    return { command: settings.pythonPath, args: ['-c', PY_MAIN, 'serve'] };
  }
  return { command: platform === 'win32' ? 'smallcode-lsp.exe' : 'smallcode-lsp', args: ['serve'] };
}

/**
 * vscode-languageclient `Executable` options. No `transport`: with `TransportKind.stdio` the
 * client appends `--stdio` to the arguments, which `smallcode-lsp serve` rejects; without it
 * the client still talks over stdio.
 */
export function executable(launch: Launch): { command: string; args: string[] } {
  return { command: launch.command, args: [...launch.args] };
}
