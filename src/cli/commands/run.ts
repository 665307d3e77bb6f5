import { Command, Option } from 'commander';
import { readFileSync, rmSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { dirname } from 'node:path';
import { bindAdminSocket, bindStatusSocket, type AdminSocket, type StatusSocketOptions } from '../../admin/server.js';
import { AdminSocketError } from '../../admin/socketFile.js';
import { statusSocketBeside } from '../../config/defaults.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfigFile } from '../../config/load.js';
import type { DaemonConfig } from '../../config/types.js';
import { Daemon } from '../../daemon/daemon.js';
import { systemdNotifier, type SystemdNotifier } from '../../daemon/systemdNotify.js';
import { createLogger } from '../../log.js';
import { parseListenAddress, type WebOptions } from '../../http/server.js';
import { EMPTY_WEB_CONFIG, loadWebConfig } from '../../http/webConfig.js';
import { checkTlsFiles } from '../../http/webServer.js';
import { openLinuxAdapters } from '../../net/linuxAdapters.js';
import { applySysctlFixes, evaluateSysctls, readSysctls } from '../../net/sysctl.js';
import {
  configFileOption,
  disableExporterMetricsOption,
  listenOption,
  logFormatOption,
  logLevelOption,
  telemetryPathOption,
  webConfigOption,
  type CommonFlags,
} from '../options.js';
import { checkReadable } from '../readablePath.js';
import { buildInfo } from '../version.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run the daemon: probe, fail over, export metrics')
    .addOption(configFileOption())
    .addOption(listenOption())
    .addOption(webConfigOption())
    .addOption(telemetryPathOption())
    .addOption(disableExporterMetricsOption())
    .addOption(
      new Option(
        '--status.socket <path>',
        'read-only socket for `ipmpd stat` (default: status.sock beside admin_socket)',
      ),
    )
    .addOption(
      new Option('--status.socket-mode <mode>', 'permission bits of the status socket (octal)').default('0666'),
    )
    .addOption(
      new Option(
        '--status.socket-group <group>',
        'group owning the status socket (name or gid), e.g. with --status.socket-mode 0660',
      ),
    )
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(run);
}

/** The daemon: flags and configuration checked, sockets bound, sysctls checked, then the engine starts. */
async function run(flags: RunFlags): Promise<void> {
  const log = createLogger({ level: flags['log.level'], format: flags['log.format'] });
  // bad flags (and an unusable web config file) fail before anything is touched: `ipmpd: <what>`, exit 1
  const web: WebOptions = webOptions(flags);
  const statusAccess: StatusSocketOptions = statusSocketAccess(flags);
  for (const setting of web.config.ignored)
    log.warn(
      { event: 'web_config_ignored', setting },
      `--web.config.file: ${setting} is accepted but not applied (Node's TLS defaults choose it)`,
    );
  const file = flags['config.file'];
  const config = await loadConfig(file, log);
  if (!file || !config) return;
  // the admin socket first: a path that cannot be used, or a running ipmpd on it, stops us before sysctls, addresses or probes
  const adminSocket = await bindSockets(config, flags['status.socket'], statusAccess, log);
  if (!adminSocket) return;
  checkSysctls(config, log);
  const adapters = await openLinuxAdapters(config, (event, message, error) =>
    log.warn({ event, ...(error ? { err: error.message } : {}) }, message),
  );
  const reload = configReloader(file, log, () => daemon);
  const daemon = new Daemon({
    config,
    adapters,
    log,
    listenAddress: web.listenAddresses[0]!,
    web,
    build: buildInfo(),
    onReloadRequest: reload,
    adminSocket,
  });
  await daemon.start();
  // under systemd (Type=notify): READY=1 once every group has a first verdict, watchdog pings from the event loop
  const systemd = systemdNotifier((message) => log.warn({ event: 'systemd_notify_failed' }, message));
  systemd.start(
    () => daemon.ready(),
    () => `${config.groups.length} group(s) with a first verdict; metrics on ${web.listenAddresses.join(', ')}`,
  );
  handleSignals(daemon, systemd, reload, file, log);
}

/** The configuration, or undefined (logged, exit code set) when there is none or it is wrong. */
async function loadConfig(file: string | undefined, log: Logger): Promise<DaemonConfig | undefined> {
  if (!file) {
    // like in.mpathd tracking only grouped interfaces: nothing configured, nothing probed
    log.error(
      { event: 'no_config' },
      'no configuration: ipmpd probes only the interfaces of the groups in --config.file; nothing to do. See examples/ and `ipmpd check-config`.',
    );
    process.exitCode = 2;
    return undefined;
  }
  checkReadable('--config.file', file, 'file');
  let config: DaemonConfig;
  try {
    config = await loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const i of err.issues)
      log.error({ event: 'config_error', file: i.file, line: i.line, column: i.column }, i.message);
    process.exitCode = 1;
    return undefined;
  }
  if (config.groups.length === 0 && config.trackInterfacesOnlyWithGroups)
    log.warn({ event: 'no_groups' }, `${file} defines no groups: nothing will be probed`);
  return config;
}

/**
 * Binds the admin socket, then the status socket; undefined (logged, exit code
 * set, nothing bound) when either cannot be used. Both are removed when the
 * process exits, also after a start that fails later.
 */
async function bindSockets(
  config: DaemonConfig,
  statusSocketFlag: string | undefined,
  statusAccess: StatusSocketOptions,
  log: Logger,
): Promise<AdminSocket | undefined> {
  let adminSocket: AdminSocket;
  try {
    adminSocket = await bindAdminSocket(config.adminSocket);
  } catch (err) {
    if (!(err instanceof AdminSocketError)) throw err;
    log.error({ event: 'admin_socket_error', admin_socket: config.adminSocket }, err.message);
    process.exitCode = 1;
    return undefined;
  }
  // a start that fails after this point exits without a clean stop: the socket is ours, take it along
  process.once('exit', () => rmSync(config.adminSocket, { force: true }));
  const statusSocket = statusSocketFlag ?? statusSocketBeside(config.adminSocket);
  try {
    await bindStatusSocket(statusSocket, adminSocket, statusAccess);
  } catch (err) {
    if (!(err instanceof AdminSocketError)) throw err;
    log.error({ event: 'status_socket_error', status_socket: statusSocket }, err.message);
    process.exitCode = 1;
    adminSocket.server.close(); // nothing else holds the process: it exits, the host untouched
    return undefined;
  }
  process.once('exit', () => rmSync(statusSocket, { force: true }));
  const closed = closedDirectory(statusSocket);
  if (closed)
    log.warn(
      { event: 'status_socket_unreachable', status_socket: statusSocket, directory: closed },
      `status socket ${statusSocket}: ${closed} is not searchable by other users, so \`ipmpd stat\` needs root (make it 0755)`,
    );
  return adminSocket;
}

/** Sysctls that break several NICs on one subnet: fixed with fix_sysctls, else reported. */
function checkSysctls(config: DaemonConfig, log: Logger): void {
  const ifnames = config.groups.flatMap((g) => g.interfaces.map((i) => i.name));
  const findings = evaluateSysctls(ifnames, readSysctls(ifnames));
  if (config.fixSysctls && findings.length) {
    for (const a of applySysctlFixes(findings))
      log.warn({ event: 'sysctl_fixed', sysctl: a }, `set ${a} (fix_sysctls: true)`);
  } else {
    for (const f of findings)
      log[f.severity]({ event: 'sysctl_check', sysctl: f.sysctl, value: f.value, want: f.want, fix: f.fix }, f.message);
  }
}

type ReloadResult = { ok: true } | { ok: false; error: string };

/** Re-reads `file` and applies it, one reload at a time; a bad file keeps the running configuration. */
function configReloader(file: string, log: Logger, daemon: () => Daemon): () => Promise<ReloadResult> {
  let reloading = Promise.resolve<ReloadResult>({ ok: true });
  return () => {
    reloading = reloading.then(async () => {
      try {
        const next = await loadConfigFile(file);
        await daemon().reload(next);
        return { ok: true as const };
      } catch (err) {
        const message = err instanceof ConfigError ? err.message : (err as Error).message;
        log.error(
          { event: 'config_reload_failed', file, error: message },
          `configuration not reloaded, the previous one keeps running: ${message}`,
        );
        daemon().reloadRejected();
        return { ok: false as const, error: message };
      }
    });
    return reloading;
  };
}

/** SIGHUP reloads; SIGTERM and SIGINT stop, leaving the data addresses where they are. */
function handleSignals(
  daemon: Daemon,
  systemd: SystemdNotifier,
  reload: () => Promise<ReloadResult>,
  file: string,
  log: Logger,
): void {
  process.on('SIGHUP', () => {
    reload().catch((err: Error) =>
      log.error({ event: 'config_reload_failed', file }, `configuration not reloaded: ${err.message}`),
    );
  });
  const shutdown = (signal: string) => {
    log.info({ event: 'stopping', signal }, `received ${signal}: stopping, data addresses stay where they are`);
    systemd.stopping();
    daemon.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function webOptions(flags: CommonFlags): WebOptions {
  const listenAddresses = flags['web.listenAddress'];
  for (const address of listenAddresses) parseListenAddress(address);
  const telemetryPath = flags['web.telemetryPath'];
  if (!telemetryPath.startsWith('/') || telemetryPath === '/')
    throw new Error(`--web.telemetry-path: "${telemetryPath}" is not a path below / (e.g. /metrics)`);
  const file = flags['web.config.file'];
  const config = file ? loadWebConfig(file) : EMPTY_WEB_CONFIG;
  if (config.tls) checkTlsFiles(config.tls); // unreadable or mismatched certificates stop us here, not after the host was touched
  return {
    listenAddresses,
    telemetryPath,
    disableExporterMetrics: flags['web.disableExporterMetrics'] ?? false,
    config,
  };
}

interface RunFlags extends CommonFlags {
  'status.socket'?: string;
  'status.socketMode': string;
  'status.socketGroup'?: string;
}

function statusSocketAccess(flags: RunFlags): StatusSocketOptions {
  const text = flags['status.socketMode'];
  if (!/^0?[0-7]{3}$/.test(text))
    throw new Error(`--status.socket-mode: "${text}" is not an octal mode such as 0666 or 0660`);
  const group = flags['status.socketGroup'];
  return { mode: parseInt(text, 8), ...(group !== undefined ? { gid: groupId(group) } : {}) };
}

/** A group name or number to a gid, from /etc/group (Node has no getgrnam). */
function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch (err) {
    throw new Error(
      `--status.socket-group ${group}: cannot read /etc/group: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const line = text.split('\n').find((l) => l.split(':')[0] === group);
  const gid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(gid)) throw new Error(`--status.socket-group: no group "${group}" in /etc/group`);
  return gid;
}

/** The first directory above `path` that other users cannot search, if any. */
function closedDirectory(path: string): string | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return dir;
    } catch {
      return undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
