// Status payload -> status bar text and tooltip. Pure, no `vscode` import.

export type State = 'loading' | 'ready' | 'generating' | 'error' | 'disabled' | 'stopped' | 'starting';

export interface LastCompletion {
  promptTokens: number;
  promptTokensEvaluated: number;
  generatedTokens: number;
  promptMs: number;
  generateMs: number;
  stopReason: string;
  /** Answered from the type-ahead cache: no model work, all counts 0. */
  fromCache?: boolean;
}

export interface Acceptance {
  shown: number;
  accepted: number;
  partiallyAccepted: number;
  acceptedChars: number;
}

/** Next-edit suggestions (`textDocument/copilotInlineEdit`): shown, accepted (Tab), rejected (Esc). */
export interface NextEditCounts {
  shown: number;
  accepted: number;
  rejected: number;
}

/** The `smallcode/status` result and `smallcode/statusChanged` params. */
export interface StatusPayload {
  state: State;
  model: string | null;
  error: string | null;
  last: LastCompletion | null;
  acceptance?: Acceptance;
  nextEdit?: NextEditCounts;
  /** Where the model runs: in the server's process, or a llama-server at `engineUrl`. */
  engine?: 'local' | 'remote';
  engineUrl?: string | null;
  /** Kept by the client: the latest completion the model computed (for `last` from the cache). */
  lastRun?: LastCompletion | null;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** 'error' | 'warning' background, or undefined for the normal one. */
  severity?: 'error' | 'warning';
}

const ICONS: Record<State, string> = {
  starting: '$(loading~spin)',
  loading: '$(loading~spin)',
  ready: '$(sparkle)',
  generating: '$(sync~spin)',
  disabled: '$(circle-slash)',
  error: '$(error)',
  stopped: '$(debug-stop)',
};

const LABELS: Record<State, string> = {
  starting: 'starting server',
  loading: 'loading model',
  ready: 'ready',
  generating: 'generating',
  disabled: 'disabled',
  error: 'error',
  stopped: 'server stopped',
};

/** Generated tokens per second of the last completion, or undefined when unknown. */
export function tokensPerSecond(last: LastCompletion | null): number | undefined {
  if (!last || !(last.generateMs > 0) || !(last.generatedTokens > 0)) {
    return undefined;
  }
  return (last.generatedTokens * 1000) / last.generateMs;
}

export function basename(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}

/** Renders a status payload for the status bar item. */
export function renderStatus(status: StatusPayload): StatusView {
  // The usual case, local, stays short on the bar; a remote engine is named there too.
  const remote = status.engine === 'remote' ? ' (remote)' : '';
  const text = `${ICONS[status.state] ?? ''} SmallCode${remote}`.trim();
  const lines = [`SmallCode: ${LABELS[status.state] ?? status.state}`];
  if (status.engine === 'remote') {
    lines.push(`Engine: remote${status.engineUrl ? `, ${status.engineUrl}` : ''}`);
  } else if (status.engine === 'local') {
    lines.push('Engine: local (in-process)');
  }
  if (status.model) {
    lines.push(`Model: ${basename(status.model)}`);
  }
  if (status.error) {
    lines.push(`Error: ${status.error}`);
  }
  const cached = status.last?.fromCache === true;
  if (cached) {
    lines.push('Last: from the type-ahead cache (no model work)');
  }
  const run = cached ? status.lastRun : status.last;
  if (run) {
    const total = Math.round(run.promptMs + run.generateMs);
    lines.push(`${cached ? 'Model run before' : 'Last'}: ${total} ms (prompt ${Math.round(run.promptMs)} ms for ` +
      `${run.promptTokensEvaluated}/${run.promptTokens} tokens, ${run.generatedTokens} generated, ${run.stopReason})`);
    const tps = tokensPerSecond(run);
    if (tps !== undefined) {
      lines.push(`Speed: ${tps.toFixed(1)} tokens/s`);
    }
  }
  const acc = status.acceptance;
  if (acc && acc.shown > 0) {
    lines.push(`Accepted: ${acc.accepted}/${acc.shown} shown (+${acc.partiallyAccepted} partly), ${acc.acceptedChars} chars`);
  }
  const next = status.nextEdit;
  if (next && next.shown > 0) {
    lines.push(`Next edits: ${next.accepted}/${next.shown} accepted, ${next.rejected} dismissed`);
  }
  lines.push('Click for the SmallCode menu');
  const severity = status.state === 'error' ? 'error' : status.state === 'disabled' || status.state === 'stopped' ? 'warning' : undefined;
  return { text, tooltip: lines.join('\n'), severity };
}

/**
 * `next` with `lastRun`: its own `last` if the model computed it, else the one kept before; and
 * the next-edit counts kept from before when it has none (`smallcode/statusChanged` carries
 * the completion service's status only, `smallcode/status` both).
 */
export function withLastRun(prev: StatusPayload, next: StatusPayload): StatusPayload {
  const run = (p: StatusPayload): LastCompletion | null | undefined =>
    p.last && !p.last.fromCache ? p.last : p.lastRun;
  const nextEdit = next.nextEdit ?? prev.nextEdit;
  return { ...next, lastRun: run(next) ?? run(prev) ?? null, ...(nextEdit ? { nextEdit } : {}) };
}

function nextEditCounts(raw: unknown): NextEditCounts | undefined {
  const n = raw as Record<string, unknown> | null | undefined;
  const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return n && typeof n === 'object' ? { shown: count(n.shown), accepted: count(n.accepted), rejected: count(n.rejected) } : undefined;
}

/** Accepts only well-formed payloads; a server bug must not break the status bar. */
export function parseStatus(raw: unknown): StatusPayload | undefined {
  if (!raw || typeof raw !== 'object') {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.state !== 'string' || !(r.state in LABELS)) {
    return undefined;
  }
  return {
    state: r.state as State,
    model: typeof r.model === 'string' ? r.model : null,
    error: typeof r.error === 'string' ? r.error : null,
    last: r.last && typeof r.last === 'object' ? (r.last as LastCompletion) : null,
    acceptance: r.acceptance && typeof r.acceptance === 'object' ? (r.acceptance as Acceptance) : undefined,
    nextEdit: nextEditCounts(r.nextEdit),
    engine: r.engine === 'local' || r.engine === 'remote' ? r.engine : undefined,
    engineUrl: typeof r.engineUrl === 'string' ? r.engineUrl : null,
  };
}
