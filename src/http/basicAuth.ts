// HTTP basic auth against bcrypt hashes (exporter-toolkit's basic_auth_users).
// bcryptjs does the hashing: no crypto of our own.

import bcrypt from 'bcryptjs';
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// a hash of nothing anyone knows, compared against for unknown users so that a
// wrong user name costs as much time as a wrong password
const DUMMY_HASH = '$2b$10$CwTycUXWue0Thq9StjUM0uJ8.R2e2Qe8xoGzGQyUWp9Ef9ucHk1M.';
const CACHE_SIZE = 100;

export function basicAuth(users: Record<string, string>): (req: Request, res: Response, next: NextFunction) => void {
  // bcrypt costs tens of milliseconds by design; a scrape every few seconds with
  // the same credentials would pay it every time. Cache successes (as the
  // toolkit does), keyed by a digest of user, password and hash.
  const verified = new Set<string>();
  const refuse = (res: Response) =>
    res.set('WWW-Authenticate', 'Basic realm="ipmpd"').status(401).type('text/plain').send('401 unauthorized\n');
  return (req, res, next) => {
    const credentials = parseBasic(req.headers.authorization);
    if (!credentials) return void refuse(res);
    const hash = users[credentials.user];
    const key = createHash('sha256')
      .update(`${credentials.user}\0${credentials.password}\0${hash ?? ''}`)
      .digest('hex');
    if (hash && verified.has(key)) return next();
    bcrypt.compare(credentials.password, hash ?? DUMMY_HASH).then(
      (ok) => {
        if (!ok || !hash) return void refuse(res);
        if (verified.size >= CACHE_SIZE) verified.clear();
        verified.add(key);
        next();
      },
      (err: Error) => next(err),
    );
  };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
