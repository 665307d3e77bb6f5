// What a configuration leaves out becomes these. The in.mpathd numbers the
// engine works by stay in src/core/constants.ts; these are ipmpd's choices
// (the FDT's default is in.mpathd's own, from /etc/default/mpathd).

import { dirname, join } from 'node:path';

export const DEFAULT_FDT_MS = 10_000;
export const DEFAULT_ADMIN_SOCKET = '/run/ipmpd/admin.sock';
/** The read-only status socket (`ipmpd run --status.socket`) sits beside the admin socket unless placed elsewhere. */
export const statusSocketBeside = (adminSocket: string): string => join(dirname(adminSocket), 'status.sock');
export const DEFAULT_STATUS_SOCKET = statusSocketBeside(DEFAULT_ADMIN_SOCKET);
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
export const DEFAULT_WEBHOOK_RETRIES = 3;
