// What a configuration leaves out becomes these. The in.mpathd numbers the
// engine works by stay in src/core/constants.ts; these are ipmpd's choices
// (the FDT's default is in.mpathd's own, from /etc/default/mpathd).

export const DEFAULT_FDT_MS = 10_000;
export const DEFAULT_ADMIN_SOCKET = '/run/ipmpd/admin.sock';
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
export const DEFAULT_WEBHOOK_RETRIES = 3;
