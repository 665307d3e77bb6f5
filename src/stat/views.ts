// ipmpstat's views of the engine state (-g, -i, -t, -a) as rows of named
// fields, and their rendering as aligned columns, parsable lines (-P) or JSON.

import type { EngineSnapshot } from '../core/snapshot.js';

export type ViewName = 'group' | 'interface' | 'target' | 'address';
export type Row = Record<string, string>;

const FIELDS: Record<ViewName, string[]> = {
  group: ['GROUP', 'STATE', 'FDT', 'INTERFACES'],
  interface: ['INTERFACE', 'ACTIVE', 'GROUP', 'FLAGS', 'LINK', 'PROBE', 'STATE'],
  target: ['INTERFACE', 'MODE', 'METHOD', 'TESTADDR', 'TARGETS'],
  address: ['ADDRESS', 'STATE', 'GROUP', 'INBOUND', 'OUTBOUND'],
};

export function rows(view: ViewName, s: EngineSnapshot): Row[] {
  switch (view) {
    case 'group':
      return s.groups.map((g) => {
        const active = g.interfaces.filter((i) => i.active).map((i) => i.name);
        const inactive = g.interfaces
          .filter((i) => !i.active && (i.state === 'ok' || i.state === 'unknown') && i.inactive)
          .map((i) => `(${i.name})`);
        const unusable = g.interfaces
          .filter((i) => !i.active && !(i.inactive && (i.state === 'ok' || i.state === 'unknown')))
          .map((i) => `[${i.name}]`);
        const probing = g.interfaces.some((i) => i.instances.length > 0);
        return {
          GROUP: g.name,
          STATE: g.state,
          FDT: probing ? `${(g.fdtMs / 1000).toFixed(2)}s` : '--',
          INTERFACES: [...active, ...inactive, ...unusable].join(' '),
        };
      });
    case 'interface':
      return s.groups.flatMap((g) =>
        g.interfaces.map((i) => ({
          INTERFACE: i.name,
          ACTIVE: i.active ? 'yes' : 'no',
          GROUP: g.name,
          // ipmpstat's seven flag positions; m/b/M (multicast roles) do not apply on Linux
          FLAGS: [
            i.inactive ? 'i' : '-',
            i.standby ? 's' : '-',
            '-',
            '-',
            '-',
            i.present ? '-' : 'd',
            i.duplicateMac ? 'h' : '-',
          ].join(''),
          LINK: i.link,
          PROBE: i.probeState,
          STATE: i.state,
        })),
      );
    case 'target':
      return s.groups.flatMap((g) =>
        g.interfaces.flatMap((i) =>
          i.instances.length === 0
            ? [{ INTERFACE: i.name, MODE: 'disabled', METHOD: '--', TESTADDR: '--', TARGETS: '--' }]
            : i.instances.map((inst) => ({
                INTERFACE: i.name,
                MODE: inst.mode,
                METHOD: inst.method,
                TESTADDR: inst.testAddress ?? '--',
                TARGETS:
                  inst.targets
                    .filter((t) => t.status === 'active')
                    .map((t) => t.address)
                    .join(' ') || '--',
              })),
        ),
      );
    case 'address':
      return s.groups.flatMap((g) =>
        g.addresses.map((a) => ({
          ADDRESS: a.address.address,
          STATE: a.up ? 'up' : 'down',
          GROUP: g.name,
          INBOUND: a.holder ?? '--',
          OUTBOUND: a.holder ?? '--', // Linux sends from the interface that holds the address
        })),
      );
  }
}

/** Pick fields (-o), case-insensitive; errors name the unknown field and the choices. */
export function selectFields(view: ViewName, spec: string | undefined): string[] {
  if (!spec || spec === 'all') return FIELDS[view];
  return spec.split(',').map((f) => {
    const name = f.trim().toUpperCase();
    if (!FIELDS[view].includes(name))
      throw new Error(`unknown field "${f}" for this view; choose from ${FIELDS[view].join(',')}`);
    return name;
  });
}

export function renderTable(fields: string[], data: Row[]): string {
  const widths = fields.map((f) => Math.max(f.length, ...data.map((r) => (r[f] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(fields), ...data.map((r) => line(fields.map((f) => r[f] ?? '')))].join('\n') + '\n';
}

/** ipmpstat -P: colon-separated, colons inside values escaped with a backslash. */
export function renderParsable(fields: string[], data: Row[]): string {
  return (
    data.map((r) => fields.map((f) => (r[f] ?? '').replace(/([:\\])/g, '\\$1')).join(':')).join('\n') +
    (data.length ? '\n' : '')
  );
}
