// Flags shared by subcommands, Prometheus-exporter style.

import { Option } from 'commander';
import type { LogFormat, LogLevel } from '../log.js';

export const configFileOption = () => new Option('--config.file <path>', 'configuration file (YAML)');
export const listenOption = () => new Option('--web.listen-address <address>', 'address for /metrics and the status endpoints').default(':9740');
export const logLevelOption = () => new Option('--log.level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info');
export const logFormatOption = () => new Option('--log.format <format>', 'log format').choices(['logfmt', 'json']).default('logfmt');
export const adminSocketOption = () => new Option('--admin.socket <path>', 'admin socket of the running daemon').default('/run/ipmpd/admin.sock');

/** commander turns --config.file into the key "config.file". */
export interface CommonFlags {
  'config.file'?: string;
  'web.listenAddress': string;
  'log.level': LogLevel;
  'log.format': LogFormat;
  'admin.socket': string;
}
