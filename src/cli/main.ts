#!/usr/bin/env node
// ipmpd: IP multipathing for Linux, as a Prometheus exporter.

import { Command, Option } from 'commander';
import { checkConfigCommand } from './commands/checkConfig.js';
import { offlineCommand, onlineCommand, reloadCommand } from './commands/admin.js';
import { importSolarisCommand } from './commands/importSolaris.js';
import { runCommand } from './commands/run.js';
import { statCommand } from './commands/stat.js';
import { versionText } from './version.js';

const program = new Command('ipmpd')
  .description('IP multipathing for Linux (in.mpathd) as a Prometheus exporter and alerting sidecar')
  .addOption(new Option('--version', 'show version, revision, build date and Node version'))
  .on('option:version', () => {
    process.stdout.write(versionText());
    process.exit(0);
  })
  .addCommand(runCommand())
  .addCommand(checkConfigCommand())
  .addCommand(statCommand())
  .addCommand(offlineCommand())
  .addCommand(onlineCommand())
  .addCommand(reloadCommand())
  .addCommand(importSolarisCommand());

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ipmpd: ${err.message}\n`);
  process.exit(1);
});
