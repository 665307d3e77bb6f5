#!/usr/bin/env node
// ipmpd: IP multipathing for Linux, as a Prometheus exporter.

import { Command } from 'commander';
import { checkConfigCommand } from './commands/checkConfig.js';
import { offlineCommand, onlineCommand, reloadCommand } from './commands/admin.js';
import { importSolarisCommand } from './commands/importSolaris.js';
import { runCommand } from './commands/run.js';
import { statCommand } from './commands/stat.js';
import { packageVersion } from './version.js';

const program = new Command('ipmpd')
  .description('IP multipathing for Linux (in.mpathd) as a Prometheus exporter and alerting sidecar')
  .version(packageVersion())
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
