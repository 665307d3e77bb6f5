// One full garbage collection, on purpose: reading a routing table of a million
// routes leaves tens of MiB of garbage (datagrams, decoded fields) that V8 would
// otherwise keep as resident memory until pressure builds. Done once, after the
// table is read at start, before ipmpd is ready: never on the failover path.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
