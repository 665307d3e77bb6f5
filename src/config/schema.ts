// The shape of the YAML file. Strict: an unknown key is an error (a typo must
// never silently fall back to a default).

import { z } from 'zod';
import { RTT_GRANULARITIES } from './metrics.js';

const duration = z.string({ error: 'must be a duration such as 10s or 100ms' });
const cidrList = z.union([z.string(), z.array(z.string())]);

const RawInterface = z
  .object({
    name: z.string({ error: 'interface name is required' }),
    test_address: cidrList.optional(),
    standby: z.boolean().optional(),
  })
  .strict();

const RawDataAddress = z.union([
  z.string(),
  z
    .object({
      address: z.string({ error: 'address is required' }),
      preferred_interface: z.string().optional(),
    })
    .strict(),
]);

const RawGroup = z
  .object({
    name: z.string({ error: 'group name is required' }),
    interfaces: z.array(RawInterface).min(1, 'a group needs at least one interface'),
    data_addresses: z.array(RawDataAddress).optional(),
    probe_targets: z.array(z.string()).optional(),
    probe_method: z.enum(['icmp', 'arp'], { error: 'probe_method must be icmp or arp' }).optional(),
  })
  .strict();

const hookEvents = z
  .array(z.enum(['address_moved', 'interface_failed', 'interface_repaired', 'group_state']))
  .min(1, 'list at least one event, or leave events out for all four');

const RawHook = z
  .object({
    command: z
      .array(z.string())
      .min(1, 'command is the program and its arguments, e.g. ["/usr/local/bin/on-ipmp-event"]'),
    events: hookEvents.optional(),
    timeout: duration.optional(),
  })
  .strict();

const RawWebhook = z
  .object({
    url: z.string({ error: 'url is required' }),
    events: hookEvents.optional(),
    timeout: duration.optional(),
    retries: z.number().int().min(0).max(10).optional(),
  })
  .strict();

export const RawConfig = z
  .object({
    failure_detection_time: duration.optional(),
    failback: z.boolean().optional(),
    track_interfaces_only_with_groups: z.boolean().optional(),
    on_all_targets_lost: z.enum(['rediscover', 'fail_group']).optional(),
    announce: z
      .object({
        count: z.number().int().min(0).max(255).optional(),
        interval: duration.optional(),
        second_burst_after: duration.optional(),
        refresh_interval: duration.optional(),
        until_traffic: duration.optional(),
      })
      .strict()
      .optional(),
    fix_sysctls: z.boolean().optional(),
    follow_route_protocols: z.array(z.union([z.string(), z.number()])).optional(),
    admin_socket: z.string().optional(),
    hooks: z.array(RawHook).optional(),
    webhooks: z.array(RawWebhook).optional(),
    metrics: z
      .object({
        rtt_histogram: z
          .object({
            granularity: z
              .enum(RTT_GRANULARITIES, {
                error: `must be ${RTT_GRANULARITIES.join(', ').replace(/, (\w+)$/, ' or $1')}`,
              })
              .optional(),
            buckets: z
              .union([z.string(), z.array(z.number())], {
                error: 'must be a preset name (fine, coarse) or a list of upper bounds in seconds',
              })
              .optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    groups: z.array(RawGroup).optional(),
  })
  .strict();

export type RawConfig = z.infer<typeof RawConfig>;

/** Every key the schema accepts, at any depth, in schema order: what "did you mean" suggests from. */
export function schemaKeys(schema: z.core.$ZodType): string[] {
  const keys = new Set<string>();
  const walk = (s: z.core.$ZodType): void => {
    if (s instanceof z.ZodObject)
      for (const [key, value] of Object.entries(s.shape)) {
        keys.add(key);
        walk(value);
      }
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) walk(s.unwrap());
    else if (s instanceof z.ZodArray) walk(s.element);
    else if (s instanceof z.ZodUnion) for (const option of s.options) walk(option);
    else if (s instanceof z.ZodPipe) walk(s.in);
  };
  walk(schema);
  return [...keys];
}
