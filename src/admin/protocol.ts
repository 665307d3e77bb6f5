// The admin socket speaks one JSON object per line, both ways. Requests are
// small and strictly shaped; anything else is refused with an error that says why.

import { z } from 'zod';

export const MAX_REQUEST_BYTES = 4096;

export const AdminRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('status') }).strict(),
  z.object({ op: z.literal('offline'), interface: z.string().min(1).max(15) }).strict(),
  z.object({ op: z.literal('online'), interface: z.string().min(1).max(15) }).strict(),
  z.object({ op: z.literal('reload') }).strict(),
  z.object({ op: z.literal('watch_probes') }).strict(),
]);
export type AdminRequest = z.infer<typeof AdminRequest>;

export type AdminResponse = { ok: true; result?: unknown } | { ok: false; error: string };

/** One message as it goes on the socket: its JSON and a newline. */
export function toLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/** Cuts the text a socket delivers, in chunks of any size, into lines. */
export class LineSplitter {
  private tail = '';

  /** The lines this chunk completes, without their newlines, in order. */
  push(chunk: string): string[] {
    const lines = (this.tail + chunk).split('\n');
    this.tail = lines.pop()!;
    return lines;
  }

  /** The length of the line still waiting for its newline. */
  get pendingLength(): number {
    return this.tail.length;
  }
}

/** Parse one request line; errors name what is wrong. */
export function parseRequest(line: string): { ok: true; request: AdminRequest } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `request is not JSON: ${(err as Error).message}` };
  }
  const parsed = AdminRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? ` at "${issue.path.join('.')}"` : '';
    return { ok: false, error: `bad request${where}: ${issue.message}` };
  }
  return { ok: true, request: parsed.data };
}
