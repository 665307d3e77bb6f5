// The admin socket speaks one JSON object per line. Requests are small and
// strictly shaped; anything else is refused with an error that says why.

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
