import { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errnoText } from '../../admin/socketFile.js';
import { importSolaris } from '../../solaris/convert.js';
import { checkReadable } from '../readablePath.js';

export function importSolarisCommand(): Command {
  return new Command('import-solaris')
    .description(
      'convert a Solaris IPMP setup (/etc/hostname.*, /etc/hosts, /etc/default/mpathd, static routes) to an ipmpd config',
    )
    .argument('<dir>', 'a copy of the Solaris root (or of its /etc)')
    .option('--interface-map <list>', 'rename interfaces, e.g. hme0=eth0,hme1=eth1')
    .action((dir: string, opts: { interfaceMap?: string }) => {
      const map: Record<string, string> = {};
      for (const pair of (opts.interfaceMap ?? '').split(',').filter(Boolean)) {
        const [from, to] = pair.split('=');
        if (!from || !to) throw new Error(`--interface-map: "${pair}" is not OLD=NEW`);
        map[from] = to;
      }
      checkReadable('import-solaris', dir, 'directory');
      let result: ReturnType<typeof importSolaris>;
      try {
        result = importSolaris(dir, map);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (!e.code) throw err;
        throw new Error(`import-solaris ${dir}: cannot read ${e.path ?? 'a file'}: ${errnoText(err)}`);
      }
      for (const w of result.warnings) process.stderr.write(`warning: ${w.file}:${w.line}: ${w.message}\n`);
      const found = solarisInterfaces(dir);
      for (const from of Object.keys(map))
        if (!found.includes(from))
          process.stderr.write(`warning: --interface-map: ${from} has no hostname.${from} in ${dir}\n`);
      const kept = found.filter((name) => !(name in map));
      // Linux never calls a NIC hme0: a config naming it would probe nothing
      if (kept.length)
        process.stderr.write(
          `warning: ${kept.join(', ')} keep their Solaris names; give the Linux ones with --interface-map ${kept.map((n, i) => `${n}=eth${i}`).join(',')}\n`,
        );
      process.stdout.write(result.yaml);
    });
}

/** The interfaces with a hostname.<if> file, as importSolaris finds them. */
function solarisInterfaces(dir: string): string[] {
  const etc = existsSync(join(dir, 'etc')) ? join(dir, 'etc') : dir;
  return readdirSync(etc)
    .filter((f) => /^hostname\.[a-z0-9_]+$/i.test(f))
    .map((f) => f.slice('hostname.'.length))
    .sort();
}
