import { Command } from 'commander';
import { adminRequest } from '../../admin/client.js';
import { adminSocketOption, type CommonFlags } from '../options.js';

function adminCommand(op: 'offline' | 'online', description: string): Command {
  return new Command(op)
    .description(description)
    .argument('<interface>', 'group member')
    .addOption(adminSocketOption())
    .action(async (ifname: string, flags: CommonFlags) => {
      const r = await adminRequest(flags['admin.socket'], { op, interface: ifname });
      if (!r.ok) {
        process.stderr.write(`ipmpd ${op} ${ifname}: ${r.error}\n`);
        process.exitCode = 1;
      }
    });
}

export const offlineCommand = () => adminCommand('offline', 'take an interface out of service, moving its data addresses (if_mpadm -d)');
export const onlineCommand = () => adminCommand('online', 'bring an offlined interface back (if_mpadm -r)');

export function reloadCommand(): Command {
  return new Command('reload')
    .description('make the running daemon re-read its configuration file (same as SIGHUP)')
    .addOption(adminSocketOption())
    .action(async (flags: CommonFlags) => {
      const r = await adminRequest(flags['admin.socket'], { op: 'reload' });
      if (!r.ok) {
        process.stderr.write(`ipmpd reload: ${r.error}\n`);
        process.exitCode = 1;
      }
    });
}
