import { Command } from 'commander';
import { importSolaris } from '../../solaris/convert.js';

export function importSolarisCommand(): Command {
  return new Command('import-solaris')
    .description('convert a Solaris IPMP setup (/etc/hostname.*, /etc/hosts, /etc/default/mpathd, static routes) to an ipmpd config')
    .argument('<dir>', 'a copy of the Solaris root (or of its /etc)')
    .option('--interface-map <list>', 'rename interfaces, e.g. hme0=eth0,hme1=eth1')
    .action((dir: string, opts: { interfaceMap?: string }) => {
      const map: Record<string, string> = {};
      for (const pair of (opts.interfaceMap ?? '').split(',').filter(Boolean)) {
        const [from, to] = pair.split('=');
        if (!from || !to) throw new Error(`--interface-map: "${pair}" is not OLD=NEW`);
        map[from] = to;
      }
      const { yaml, warnings } = importSolaris(dir, map);
      for (const w of warnings) process.stderr.write(`warning: ${w.file}:${w.line}: ${w.message}\n`);
      process.stdout.write(yaml);
    });
}
