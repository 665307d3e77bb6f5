// The effective configuration, printed back as YAML in the file's own terms.

import { stringify } from 'yaml';
import { formatDuration } from './duration.js';
import { metricsToYaml } from './metrics.js';
import type { Cidr, DaemonConfig } from './types.js';

const cidr = (c: Cidr) => `${c.address}/${c.prefixLength}`;

export function configToYaml(c: DaemonConfig): string {
  return stringify({
    failure_detection_time: formatDuration(c.failureDetectionTimeMs),
    failback: c.failback,
    track_interfaces_only_with_groups: c.trackInterfacesOnlyWithGroups,
    on_all_targets_lost: c.onAllTargetsLost,
    announce: {
      count: c.announce.count,
      interval: formatDuration(c.announce.intervalMs),
      second_burst_after: formatDuration(c.announce.secondBurstAfterMs),
      refresh_interval: formatDuration(c.announce.refreshIntervalMs),
      until_traffic: formatDuration(c.announce.untilTrafficMs),
    },
    fix_sysctls: c.fixSysctls,
    follow_route_protocols: c.followRouteProtocols,
    admin_socket: c.adminSocket,
    hooks: c.hooks.map((h) => ({ command: h.command, events: h.events, timeout: formatDuration(h.timeoutMs) })),
    webhooks: c.webhooks.map((w) => ({
      url: w.url,
      events: w.events,
      timeout: formatDuration(w.timeoutMs),
      retries: w.retries,
    })),
    metrics: metricsToYaml(c.metrics),
    groups: c.groups.map((g) => ({
      name: g.name,
      interfaces: g.interfaces.map((i) => ({
        name: i.name,
        ...(i.testAddresses.length
          ? { test_address: i.testAddresses.length === 1 ? cidr(i.testAddresses[0]!) : i.testAddresses.map(cidr) }
          : {}),
        standby: i.standby,
      })),
      data_addresses: g.dataAddresses.map((d) => ({
        address: cidr(d.address),
        ...(d.preferredInterface ? { preferred_interface: d.preferredInterface } : {}),
      })),
      probe_targets: g.probeTargets,
      probe_method: g.probeMethod,
    })),
  });
}
