// One log line per state change, in in.mpathd's vocabulary, with the group,
// interface and cause as fields. Probe-by-probe events are debug only.

import type { Logger } from 'pino';
import type { EngineEvent } from '../core/types.js';
import { monotonicMs } from './clock.js';

export function logEvent(log: Logger, e: EngineEvent): void {
  switch (e.kind) {
    case 'interface_failed':
      return log.error(
        {
          event: e.kind,
          group: e.group,
          interface: e.ifname,
          cause: e.cause,
          since_first_loss_ms: e.cause === 'probe' ? Math.round(monotonicMs() - e.firstFailureAt) : 0,
        },
        `IP interface failure detected on ${e.ifname} of group ${e.group} (${e.cause === 'link' ? 'link down' : 'probes lost'})`,
      );
    case 'interface_repaired':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname },
        `IP interface repair detected on ${e.ifname} of group ${e.group}`,
      );
    case 'group_failed':
      return log.error(
        { event: e.kind, group: e.group, cause: e.cause },
        `All IP interfaces in group ${e.group} are now unusable`,
      );
    case 'group_usable':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname },
        `At least 1 IP interface (${e.ifname}) in group ${e.group} is now usable`,
      );
    case 'group_state':
      return log.info({ event: e.kind, group: e.group, from: e.from, to: e.to }, `group ${e.group} is now ${e.to}`);
    case 'link_down':
      return log.warn({ event: e.kind, group: e.group, interface: e.ifname }, `The link has gone down on ${e.ifname}`);
    case 'link_up':
      return log.info({ event: e.kind, group: e.group, interface: e.ifname }, `The link has come up on ${e.ifname}`);
    case 'interface_vanished':
    case 'interface_appeared':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname },
        `${e.ifname} ${e.kind === 'interface_vanished' ? 'has been removed' : 'has appeared'}`,
      );
    case 'repair_deferred_flapping':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname },
        `The link has come up on ${e.ifname} more than 2 times in the last minute; disabling repair until it stabilizes`,
      );
    case 'fdt_raised':
      return log.info(
        { event: e.kind, group: e.group, interface: e.ifname, fdt_ms: e.fdtMs },
        `Cannot meet requested failure detection time of ${e.configuredFdtMs} ms on (inet${e.family === 6 ? '6' : ''} ${e.ifname}) new failure detection time for group "${e.group}" is ${e.fdtMs} ms`,
      );
    case 'fdt_lowered':
      return log.info(
        { event: e.kind, group: e.group, interface: e.ifname, fdt_ms: e.fdtMs },
        `Improved failure detection time ${e.fdtMs} ms on (inet${e.family === 6 ? '6' : ''} ${e.ifname}) for group "${e.group}"`,
      );
    case 'probes_missed':
      return log.info(
        { event: e.kind, group: e.group, interface: e.ifname, count: e.count },
        `missed sending ${e.count} probes on ${e.ifname}`,
      );
    case 'probing_disabled':
      return log.info(
        { event: e.kind, group: e.group, interface: e.ifname, reason: e.reason },
        `No test address configured on interface ${e.ifname}; disabling probe-based failure detection on it`,
      );
    case 'target_added':
    case 'target_removed':
      return log.info(
        { event: e.kind, group: e.group, interface: e.ifname, target: e.target, source: e.source },
        `probe target ${e.target} ${e.kind === 'target_added' ? 'added on' : 'removed from'} ${e.ifname}`,
      );
    case 'target_status':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname, target: e.target, status: e.status, why: e.why },
        `probe target ${e.target} on ${e.ifname} is ${e.status}`,
      );
    case 'targets_unreachable':
      return log.error(
        { event: e.kind, group: e.group },
        `every probe target of group ${e.group} stopped answering on every interface at once; not failing the group, looking for new targets`,
      );
    case 'targets_reachable':
      return log.warn({ event: e.kind, group: e.group }, `probe targets of group ${e.group} answer again`);
    case 'duplicate_mac':
      return log.error(
        { event: e.kind, group: e.group, interface: e.ifname, mac: e.mac },
        e.offlined
          ? `IP interface ${e.ifname} has a hardware address which is not unique in group ${e.group}; offlining`
          : `IP interface ${e.ifname} now has a unique hardware address in group ${e.group}; onlining`,
      );
    case 'offline':
    case 'online':
      return log.warn(
        { event: e.kind, group: e.group, interface: e.ifname },
        `${e.ifname} of group ${e.group} is now ${e.kind}`,
      );
    case 'probe_acked':
    case 'probe_lost':
    case 'reply_ignored':
      // one per probe: skip building the object when nobody reads debug
      if (log.isLevelEnabled('debug')) log.debug({ event: e.kind, ...e });
      return;
  }
}
