import { Command, Option } from 'commander';
import { adminRequest, adminStream } from '../../admin/client.js';
import type { EngineSnapshot } from '../../core/snapshot.js';
import type { EngineEvent } from '../../core/types.js';
import { renderParsable, renderTable, rows, selectFields, type ViewName } from '../../stat/views.js';
import { DEFAULT_STATUS_SOCKET } from '../../config/defaults.js';
import { adminSocketOption, type CommonFlags } from '../options.js';

interface StatFlags extends CommonFlags {
  g?: boolean;
  i?: boolean;
  t?: boolean;
  a?: boolean;
  p?: boolean;
  o?: string;
  P?: boolean;
  json?: boolean;
  'status.socket': string;
}

export function statCommand(): Command {
  return new Command('stat')
    .description('show groups, interfaces, targets, addresses or live probes of the running daemon (ipmpstat)')
    .addOption(new Option('-g', 'groups'))
    .addOption(new Option('-i', 'interfaces'))
    .addOption(new Option('-t', 'probe targets'))
    .addOption(new Option('-a', 'data addresses'))
    .addOption(new Option('-p', 'live probes, until interrupted'))
    .addOption(new Option('-o <fields>', 'comma-separated fields to show'))
    .addOption(new Option('-P', 'parsable output (colon-separated, needs -o)'))
    .addOption(new Option('--json', 'JSON output'))
    .addOption(
      new Option('--status.socket <path>', 'read-only status socket of the running daemon (no root needed)').default(
        DEFAULT_STATUS_SOCKET,
      ),
    )
    .addOption(adminSocketOption())
    .action(async (flags: StatFlags, command: Command) => {
      // the status socket unless the admin socket is named (root may use either)
      const socket =
        command.getOptionValueSource('admin.socket') === 'cli' ? flags['admin.socket'] : flags['status.socket'];
      const views = (['g', 'i', 't', 'a', 'p'] as const).filter((v) => flags[v]);
      // as ipmpstat: one view at a time
      if (views.length > 1)
        throw new Error(`choose one view: ${views.map((v) => `-${v}`).join(' and ')} cannot be combined`);
      if (flags.p) return watchProbes(socket, flags);
      const view: ViewName = flags.i ? 'interface' : flags.t ? 'target' : flags.a ? 'address' : 'group';
      if (flags.P && !flags.o) throw new Error('-P needs -o to name the fields');
      const r = await adminRequest(socket, { op: 'status' });
      if (!r.ok) throw new Error(r.error);
      const snapshot = r.result as EngineSnapshot;
      const data = rows(view, snapshot);
      const fields = selectFields(view, flags.o);
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify(
            data.map((row) => Object.fromEntries(fields.map((f) => [f.toLowerCase(), row[f]]))),
            null,
            2,
          )}\n`,
        );
      else process.stdout.write(flags.P ? renderParsable(fields, data) : renderTable(fields, data));
    });
}

async function watchProbes(socket: string, flags: StatFlags): Promise<void> {
  const started = Date.now();
  const fields = ['TIME', 'INTERFACE', 'PROBE', 'RTT', 'TARGET', 'METHOD'];
  // the header once the daemon accepted: without a daemon, only the error
  const header = () => {
    if (!flags.json && !flags.P) process.stdout.write(`${fields.map((f) => f.padEnd(10)).join(' ')}\n`);
  };
  const stream = adminStream(
    socket,
    { op: 'watch_probes' },
    (value) => {
      const e = value as Extract<EngineEvent, { kind: 'probe_acked' | 'probe_lost' }>;
      const row = {
        TIME: `${((Date.now() - started) / 1000).toFixed(2)}s`,
        INTERFACE: e.ifname,
        PROBE: String(e.seq),
        RTT: e.kind === 'probe_acked' ? `${e.rttMs.toFixed(2)}ms` : '--',
        TARGET: e.target,
        METHOD: e.method,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(e)}\n`);
      else if (flags.P) process.stdout.write(renderParsable(fields, [row]));
      else process.stdout.write(`${fields.map((f) => (row as Record<string, string>)[f]!.padEnd(10)).join(' ')}\n`);
    },
    header,
  );
  process.once('SIGINT', () => stream.stop());
  await stream.done;
}
