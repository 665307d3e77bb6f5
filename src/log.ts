// Structured logs on stderr: logfmt (Prometheus style, the default) or JSON.
// logfmt is formatted synchronously in-process: no worker-thread transport.

import { pino, type Logger } from 'pino';

export type LogFormat = 'logfmt' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(
  opts: { level: LogLevel; format: LogFormat },
  stream: NodeJS.WritableStream = process.stderr,
): Logger {
  const base = {
    level: opts.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.format === 'json') return pino(base, stream);
  return pino(base, { write: (line: string) => stream.write(toLogfmt(JSON.parse(line) as Record<string, unknown>)) });
}

function toLogfmt(record: Record<string, unknown>): string {
  const { time, level, msg, ...rest } = record;
  const fields: [string, unknown][] = [['ts', time], ['level', level], ...Object.entries(rest), ['msg', msg]];
  return (
    fields
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ') + '\n'
  );
}

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
