import { Command } from 'commander';
import { AdminUnavailable, adminRequest } from '../../admin/client.js';
import type { AdminRequest, AdminResponse } from '../../admin/protocol.js';
import type { EngineSnapshot } from '../../core/snapshot.js';
import { adminSocketOption, type CommonFlags } from '../options.js';

/** One request on the admin socket; a socket this user may not open gets an answer that says why and what works instead. */
async function request(what: string, socket: string, req: AdminRequest): Promise<AdminResponse> {
  try {
    return await adminRequest(socket, req);
  } catch (err) {
    if (err instanceof AdminUnavailable && err.code === 'EACCES') {
      throw new Error(
        `${what} refused: changing state needs root (the admin socket ${socket} is mode 0600); without root, \`ipmpd stat\` shows the state`,
      );
    }
    throw err;
  }
}

function adminCommand(op: 'offline' | 'online', description: string): Command {
  return new Command(op)
    .description(description)
    .argument('<interface>', 'group member')
    .addOption(adminSocketOption())
    .action(async (ifname: string, flags: CommonFlags) => {
      const r = await request(`${op} ${ifname}`, flags['admin.socket'], { op, interface: ifname });
      if (!r.ok) {
        process.stderr.write(`ipmpd ${op} ${ifname}: ${r.error}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${describe(op, ifname, r.result as EngineSnapshot | undefined)}\n`);
    });
}

/** What the operator wants to know after offline/online: the member's state and where the group's addresses are now. */
function describe(op: 'offline' | 'online', ifname: string, snapshot: EngineSnapshot | undefined): string {
  const group = snapshot?.groups.find((g) => g.interfaces.some((i) => i.name === ifname));
  const member = group?.interfaces.find((i) => i.name === ifname);
  if (!group || !member) return `${ifname}: ${op === 'offline' ? 'offline' : 'online'}`;
  const addresses = group.addresses
    .map((a) => `${a.address.address}/${a.address.prefixLength} on ${a.holder ?? 'no interface'}`)
    .join(', ');
  return `${ifname}: ${member.state} (group ${group.name}: ${group.state}${addresses ? `; ${addresses}` : ''})`;
}

export const offlineCommand = () =>
  adminCommand('offline', 'take an interface out of service, moving its data addresses (if_mpadm -d)');
export const onlineCommand = () => adminCommand('online', 'bring an offlined interface back (if_mpadm -r)');

export function reloadCommand(): Command {
  return new Command('reload')
    .description('make the running daemon re-read its configuration file (same as SIGHUP)')
    .addOption(adminSocketOption())
    .action(async (flags: CommonFlags) => {
      const r = await request('reload', flags['admin.socket'], { op: 'reload' });
      if (!r.ok) {
        process.stderr.write(`ipmpd reload: ${r.error}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write('configuration reloaded\n');
    });
}
