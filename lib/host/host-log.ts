/**
 * Where host log lines go: timestamped console lines by default, and the filter host.json
 * `logging.logLevel` puts on invocation and function lines.
 */
import type { HostLogger } from './types';

/**
 * Timestamped host log lines; user and invocation lines on stdout, problems on stderr. Info lines
 * are written once per event-loop turn (one write for many invocations: the durable engine can run
 * thousands per second); warnings and errors flush what is pending first, so order is kept.
 */
export function consoleLogger(): HostLogger {
  const ts = (): string => new Date().toISOString();
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = '';
    process.stdout.write(text);
  };
  if (!consoleFlushInstalled) {
    consoleFlushInstalled = true;
    process.on('exit', () => consoleFlushers.forEach((f) => f()));
  }
  consoleFlushers.add(flush);
  return {
    info: (m) => {
      pending += `[${ts()}] ${m}\n`;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    warn: (m) => {
      flush();
      process.stderr.write(`[${ts()}] WARN ${m}\n`);
    },
    error: (m) => {
      flush();
      process.stderr.write(`[${ts()}] ERROR ${m}\n`);
    },
  };
}
let consoleFlushInstalled = false;
const consoleFlushers = new Set<() => void>();

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'];

/**
 * The logger for invocations and function logs, honouring host.json `logging.logLevel` (`Function`,
 * else `default`) as the Functions host does: at `Warning` the per-invocation success lines go quiet.
 */
export function functionLogger(log: HostLogger, hostJson: Record<string, any>): HostLogger {
  const levels = (hostJson?.logging?.logLevel ?? {}) as Record<string, unknown>;
  const configured = String(levels.Function ?? levels.default ?? 'Information').toLowerCase();
  const rank = LEVELS.indexOf(configured);
  if (rank <= LEVELS.indexOf('information')) return log;
  const quiet = (): void => {};
  return {
    info: quiet,
    warn: rank <= LEVELS.indexOf('warning') ? log.warn : quiet,
    error: rank <= LEVELS.indexOf('critical') ? log.error : quiet,
  };
}
