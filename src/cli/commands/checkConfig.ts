import { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { loadConfigFile } from '../../config/load.js';
import { configToYaml } from '../../config/print.js';
import { configFileOption, type CommonFlags } from '../options.js';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate a configuration file and print the effective configuration')
    .addOption(configFileOption().makeOptionMandatory())
    .action(async (flags: CommonFlags) => {
      try {
        const config = await loadConfigFile(flags['config.file']!);
        process.stdout.write(configToYaml(config));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
