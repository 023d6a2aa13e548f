// The server's stderr log lines -> log levels for the output channel. Pure, no `vscode` import.
//
// vscode-languageclient logs every stderr line with `error` unless `stdioOptions` says
// otherwise; the server writes Python logging records
// (`%(asctime)s %(levelname)s %(name)s: %(message)s`, smallcode_lsp/cli.py), so the level is
// on each line. The channel adds its own timestamp and level: the parsed line keeps the rest.

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  level: Level;
  message: string;
}

const LEVELS: Record<string, Level> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
  FATAL: 'error',
};

// `2026-11-30 14:10:48,123 INFO smallcode_lsp.server: text`
const RECORD = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)? +([A-Z]+) +(.*)$/;

/**
 * Parses stderr line by line. A line that is not a record (a traceback's body, a native
 * library's output) keeps the level of the record before it; a bare traceback is an error.
 */
export class ServerLogParser {
  private level: Level = 'info';

  line(text: string): LogLine {
    const m = RECORD.exec(text);
    if (m && m[1] in LEVELS) {
      this.level = LEVELS[m[1]];
      return { level: this.level, message: m[2] };
    }
    if (text.startsWith('Traceback (most recent call last)')) {
      this.level = 'error';
    }
    return { level: this.level, message: text };
  }
}
