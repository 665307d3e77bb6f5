// Why the kernel refused a probe: sendmsg()'s errno (native/icmpsock.c returns
// it as a number), named from a short, fixed list so the name can label a log
// line or a metric without growing without bound.

import { getSystemErrorName } from 'node:util';

export interface SendFailure {
  /** errno name (EPERM, ENETUNREACH, ...), or 'other' for one not in the list */
  errno: string;
  /** the kernel's text (glibc's strerror()), or the errno name and number */
  message: string;
}

// the errors a raw ICMP sendmsg() can return, with glibc's strerror() texts
const TEXT_BY_ERRNO = new Map<string, string>([
  ['EPERM', 'Operation not permitted'], // an output firewall rule dropped it
  ['EACCES', 'Permission denied'],
  ['ENETUNREACH', 'Network is unreachable'],
  ['EHOSTUNREACH', 'No route to host'],
  ['ENETDOWN', 'Network is down'],
  ['ENOBUFS', 'No buffer space available'],
  ['EAGAIN', 'Resource temporarily unavailable'],
  ['EMSGSIZE', 'Message too long'],
  ['EINVAL', 'Invalid argument'],
  ['EADDRNOTAVAIL', 'Cannot assign requested address'],
  ['ENODEV', 'No such device'],
  ['ENXIO', 'No such device or address'],
  ['EBADF', 'Bad file descriptor'],
]);

export function sendFailure(errno: number): SendFailure {
  let name: string;
  try {
    name = getSystemErrorName(-errno);
  } catch {
    name = `errno ${errno}`;
  }
  const text = TEXT_BY_ERRNO.get(name);
  return text ? { errno: name, message: text } : { errno: 'other', message: `${name} (${errno})` };
}
