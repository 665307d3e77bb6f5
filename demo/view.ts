// The demo's live terminal view: groups, interfaces, targets with RTT, and who
// holds each data address.

import type { EngineSnapshot } from '../src/core/snapshot.js';
import { renderTable, rows } from '../src/stat/views.js';

export function render(s: EngineSnapshot, banner: string[]): string {
  const targets = s.groups.flatMap((g) =>
    g.interfaces.flatMap((i) =>
      i.instances.flatMap((inst) =>
        inst.targets.map((t) => ({
          INTERFACE: i.name,
          TARGET: t.address,
          SOURCE: t.source,
          STATUS: t.status,
          'RTT AVG': `${t.rttAverageMs.toFixed(3)} ms`,
          'RTT DEV': `${t.rttDeviationMs.toFixed(3)} ms`,
          SENT: String(t.requests),
          LOST: String(t.timeouts),
        })),
      ),
    ),
  );
  return [
    ...banner,
    '',
    renderTable(['GROUP', 'STATE', 'FDT', 'INTERFACES'], rows('group', s)),
    renderTable(['INTERFACE', 'ACTIVE', 'FLAGS', 'LINK', 'PROBE', 'STATE'], rows('interface', s)),
    targets.length ? renderTable(Object.keys(targets[0]!), targets) : 'no probe targets yet\n',
    renderTable(['ADDRESS', 'STATE', 'INBOUND'], rows('address', s)),
  ].join('\n');
}
