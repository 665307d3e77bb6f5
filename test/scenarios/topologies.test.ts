// Probe targets are chosen as the Sun IPMP document's six topologies expect,
// and when the only target (the default router) dies, the group is reported
// as targets unreachable instead of failed (section 1.1), unless configured
// to fail as in.mpathd does.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { SUN_TOPOLOGIES, type IpmpPlan } from '../lab/topologies.js';
import { IpmpdProcess } from './ipmpd.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function yamlFor(plan: IpmpPlan, extra = ''): string {
  return `failure_detection_time: 1s
fix_sysctls: true
${extra}
groups:
  - name: ${plan.group}
    interfaces:
${plan.nics.map((n) => `      - name: ${n.name}\n        test_address: ${n.test}\n`).join('')}    data_addresses:
${plan.data.map((d) => `      - address: ${d}\n        preferred_interface: ${plan.nics[0]!.name}\n`).join('')}`;
}

async function targetsOf(lab: Lab, ipmpd: IpmpdProcess, ifname: string): Promise<{ mode: string; targets: string[] }> {
  const r = await lab.exec(
    'ipmp',
    ['node', MAIN, 'stat', '-t', '-P', '-o', 'interface,mode,targets', '--admin.socket', ipmpd.adminSocket],
    { allowFail: true },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${ifname}:`));
  if (!line) return { mode: '', targets: [] };
  const [, mode, targets] = line.split(':');
  return { mode: mode!, targets: targets === '--' ? [] : targets!.split(' ') };
}

async function settle<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
    v = await get();
  }
  return v;
}

/** Start ipmpd on a built topology and give the IPMP host the plan's routes. */
async function bring(lab: Lab, plan: IpmpPlan, extra = ''): Promise<IpmpdProcess> {
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yamlFor(plan, extra));
  await ipmpd.waitFor('placement', (l) => l.event === 'address_moved', 15_000);
  for (const r of plan.routes) await lab.exec('ipmp', ['ip', 'route', 'add', ...r.split(' ')]);
  // host routes to targets on the test subnet: on-link, since test addresses carry no prefix route
  for (const r of plan.hostRoutes)
    await lab.exec('ipmp', ['ip', 'route', 'add', ...r.split(' '), 'dev', plan.nics[0]!.name, 'onlink']);
  return ipmpd;
}

const MULTICAST_SECTIONS = new Set(['1.2', '2.1', '2.2']);

describe('the six topologies of the Sun document', { concurrency: false }, () => {
  for (const [section, { build, plan }] of Object.entries(SUN_TOPOLOGIES)) {
    test(`${section}: targets as documented (${plan.expectedProbeTargets.length}), then a failover`, async () => {
      const lab = await Lab.create(build());
      let ipmpd: IpmpdProcess | undefined;
      try {
        ipmpd = await bring(lab, plan);
        const expected = [...plan.expectedProbeTargets];
        const multicast = MULTICAST_SECTIONS.has(section);
        const norm = (t: string[]) => (multicast ? [...t].sort() : t);
        for (const nic of plan.nics) {
          const got = await settle(
            `${nic.name}'s targets`,
            () => targetsOf(lab, ipmpd!, nic.name),
            (v) => JSON.stringify(norm(v.targets)) === JSON.stringify(norm(expected)),
            20_000,
          );
          assert.equal(got.mode, multicast ? 'multicast' : 'routes');
        }
        const t0 = Date.now();
        await lab.cutCarrier('ipmp', plan.nics[0]!.name);
        await ipmpd.waitFor(
          'the failover',
          (l) => l.event === 'address_moved' && l.to === plan.nics[1]!.name && l.at >= t0,
          10_000,
        );
        assert.ok(
          await lab.ping('client', plan.data[0]!.split('/')[0]!, { count: 1, timeoutMs: 2000 }),
          'the client cannot reach the data address after the failover',
        );
      } finally {
        await ipmpd?.stop();
        await lab.destroy();
      }
    });
  }

  test('1.3 with two host routes: those two, then the default router', async () => {
    const { build, plan } = SUN_TOPOLOGIES['1.3'];
    const lab = await Lab.create(build());
    let ipmpd: IpmpdProcess | undefined;
    try {
      ipmpd = await bring(lab, { ...plan, hostRoutes: plan.hostRoutes.slice(0, 2) });
      await settle(
        'eth0 targets',
        () => targetsOf(lab, ipmpd!, 'eth0'),
        (v) => v.targets.join(' ') === `${plan.targets[0]} ${plan.targets[1]} ${plan.router}`,
        20_000,
      );
      // a host route added at run time changes the set without a restart
      await lab.exec('ipmp', [
        'ip',
        'route',
        'add',
        `${plan.targets[2]}/32`,
        'via',
        plan.targets[2]!,
        'dev',
        'eth0',
        'onlink',
      ]);
      await settle(
        'eth0 targets after a route add',
        () => targetsOf(lab, ipmpd!, 'eth0'),
        (v) => v.targets.length === 4 && v.targets.includes(plan.targets[2]!),
        10_000,
      );
      await lab.exec('ipmp', ['ip', 'route', 'del', `${plan.targets[0]}/32`]);
      await settle(
        'eth0 targets after a route delete',
        () => targetsOf(lab, ipmpd!, 'eth0'),
        (v) => v.targets.length === 3 && !v.targets.includes(plan.targets[0]!),
        10_000,
      );
    } finally {
      await ipmpd?.stop();
      await lab.destroy();
    }
  });
});

describe('section 1.1: the only target, the default router, stops answering', { concurrency: false }, () => {
  const { build, plan } = SUN_TOPOLOGIES['1.1'];

  test('default (rediscover): reported as targets unreachable, no interface or group failure', async () => {
    const lab = await Lab.create(build());
    let ipmpd: IpmpdProcess | undefined;
    try {
      ipmpd = await bring(lab, plan);
      await settle(
        'router target',
        () => targetsOf(lab, ipmpd!, 'eth0'),
        (v) => v.targets.join() === plan.router,
        20_000,
      );
      // both NICs answered once: neither is still in its 40 s start-up quiet period
      for (const nic of ['eth0', 'eth1'])
        await ipmpd.waitFor(`answers on ${nic}`, (l) => l.event === 'probe_acked' && l.ifname === nic, 10_000);
      const t0 = Date.now();
      await lab.silenceHost('router');
      await ipmpd.waitFor('targets_unreachable', (l) => l.event === 'targets_unreachable' && l.at >= t0, 10_000);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(
        ipmpd.lines.filter((l) => (l.event === 'interface_failed' || l.event === 'group_failed') && l.at >= t0).length,
        0,
      );
      const metrics = (await ipmpd.http('/metrics')).body;
      assert.match(metrics, /^ipmp_group_targets_unreachable\{group="ipmp0"\} 1$/m);
      assert.match(metrics, /^ipmp_group_state\{group="ipmp0",state="failed"\} 0$/m);
      // multicast discovery goes on; when the router answers again it is a target again
      await lab.unsilenceHost('router');
      await ipmpd.waitFor('targets_reachable', (l) => l.event === 'targets_reachable' && l.at >= t0, 20_000);
      assert.deepEqual(await targetsOf(lab, ipmpd, 'eth0'), { mode: 'routes', targets: [plan.router!] });
    } finally {
      await ipmpd?.stop();
      await lab.destroy();
    }
  });

  test("on_all_targets_lost: fail_group keeps in.mpathd's behaviour: the group fails", async () => {
    const lab = await Lab.create(build());
    let ipmpd: IpmpdProcess | undefined;
    try {
      ipmpd = await bring(lab, plan, 'on_all_targets_lost: fail_group');
      await settle(
        'router target',
        () => targetsOf(lab, ipmpd!, 'eth0'),
        (v) => v.targets.join() === plan.router,
        20_000,
      );
      // both NICs answered once: neither is still in its 40 s start-up quiet period
      for (const nic of ['eth0', 'eth1'])
        await ipmpd.waitFor(`answers on ${nic}`, (l) => l.event === 'probe_acked' && l.ifname === nic, 10_000);
      const t0 = Date.now();
      await lab.silenceHost('router');
      await ipmpd.waitFor('group_failed', (l) => l.event === 'group_failed' && l.at >= t0, 10_000);
      assert.equal(
        ipmpd.lines.filter((l) => l.event === 'address_moved' && l.at >= t0).length,
        0,
        'the address moved during the group failure',
      );
    } finally {
      await ipmpd?.stop();
      await lab.destroy();
    }
  });
});
