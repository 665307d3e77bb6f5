// Flags shared by subcommands, Prometheus-exporter style.

import { Option } from 'commander';
import { DEFAULT_ADMIN_SOCKET } from '../config/defaults.js';
import type { LogFormat, LogLevel } from '../log.js';

export const configFileOption = () => new Option('--config.file <path>', 'configuration file (YAML)');
const DEFAULT_LISTEN = [':9740'];
export const listenOption = () =>
  new Option(
    '--web.listen-address <address>',
    'address for /metrics and the status endpoints; repeat it to listen on several',
  )
    // a given address replaces the default instead of joining it
    .argParser((value: string, previous: string[]) => (previous === DEFAULT_LISTEN ? [value] : [...previous, value]))
    .default(DEFAULT_LISTEN, '":9740"');
export const webConfigOption = () =>
  new Option('--web.config.file <path>', 'TLS and basic auth settings (Prometheus exporter-toolkit web config file)');
export const telemetryPathOption = () =>
  new Option('--web.telemetry-path <path>', 'path under which to expose metrics').default('/metrics');
export const disableExporterMetricsOption = () =>
  new Option('--web.disable-exporter-metrics', 'leave out process_* and nodejs_* (the process itself), keep ipmp_*');
export const logLevelOption = () =>
  new Option('--log.level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info');
export const logFormatOption = () =>
  new Option('--log.format <format>', 'log format').choices(['logfmt', 'json']).default('logfmt');
export const adminSocketOption = () =>
  new Option('--admin.socket <path>', 'admin socket of the running daemon').default(DEFAULT_ADMIN_SOCKET);

/** commander turns --config.file into the key "config.file". */
export interface CommonFlags {
  'config.file'?: string;
  'web.listenAddress': string[];
  'web.config.file'?: string;
  'web.telemetryPath': string;
  'web.disableExporterMetrics'?: boolean;
  'log.level': LogLevel;
  'log.format': LogFormat;
  'admin.socket': string;
}
