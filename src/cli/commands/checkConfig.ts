import { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { loadConfigFile } from '../../config/load.js';
import { configToYaml } from '../../config/print.js';
import { configFileOption, type CommonFlags } from '../options.js';
import { checkReadable } from '../readablePath.js';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate a configuration file and print the effective configuration')
    .addOption(configFileOption().makeOptionMandatory())
    .action(async (flags: CommonFlags) => {
      const file = flags['config.file']!;
      checkReadable('--config.file', file, 'file');
      try {
        const config = await loadConfigFile(file);
        process.stdout.write(configToYaml(config));
        // valid, but `ipmpd run` would do nothing with it: say so here too
        if (config.groups.length === 0 && config.trackInterfacesOnlyWithGroups)
          process.stderr.write(`warning: ${file} defines no groups: \`ipmpd run\` would probe nothing\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
