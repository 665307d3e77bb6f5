// Why the kernel refused a probe. raw-socket throws sendto()'s failure as an
// Error carrying only strerror()'s text, so the errno name is recovered from
// that text: a short, fixed list, so the name can label a log line or a metric
// without growing without bound.

export interface SendFailure {
  /** errno name (EPERM, ENETUNREACH, ...), or 'other' for one not in the list */
  errno: string;
  /** the kernel's text, as raw-socket reported it */
  message: string;
}

// glibc's strerror() texts for the errors a raw ICMP sendto() can return
const ERRNO_BY_TEXT = new Map<string, string>([
  ['Operation not permitted', 'EPERM'], // an output firewall rule dropped it
  ['Permission denied', 'EACCES'],
  ['Network is unreachable', 'ENETUNREACH'],
  ['No route to host', 'EHOSTUNREACH'],
  ['Network is down', 'ENETDOWN'],
  ['No buffer space available', 'ENOBUFS'],
  ['Resource temporarily unavailable', 'EAGAIN'],
  ['Message too long', 'EMSGSIZE'],
  ['Invalid argument', 'EINVAL'],
  ['Cannot assign requested address', 'EADDRNOTAVAIL'],
  ['No such device', 'ENODEV'],
  ['No such device or address', 'ENXIO'],
  ['Bad file descriptor', 'EBADF'],
]);
const KNOWN = new Set(ERRNO_BY_TEXT.values());

export function sendFailure(err: unknown): SendFailure {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const errno = code && KNOWN.has(code) ? code : (ERRNO_BY_TEXT.get(message) ?? 'other');
  return { errno, message };
}
