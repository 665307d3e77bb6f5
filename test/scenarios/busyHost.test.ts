// A busy host on the real kernel, at test scale (the bench has the large tables):
// routes follow a data address by owner (a routing daemon's routes stay, the
// administrator's move with their origin, metric and MTU), a group with 128
// data addresses fails over and back with every address on exactly one NIC,
// and route churn disturbs neither probing, nor target choice, nor failover.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { loadTable, startChurn, type Churn } from '../lab/routeLoad.js';
import { twoNicGroup } from '../lab/topologies.js';
import { IpmpdProcess, twoNicYaml, type LogLine } from './ipmpd.js';

const moved = (to: string, since: number) => (l: LogLine) =>
  l.event === 'address_moved' && l.to === to && l.at >= since;

async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Routes of the ipmp host as `ip -j route` reports them. */
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  metrics?: Array<{ mtu?: number }>;
}
async function routes(lab: Lab, family: '-4' | '-6', proto: string): Promise<IpRoute[]> {
  const all = JSON.parse(
    (await lab.exec('ipmp', ['ip', '-j', family, 'route', 'show', 'table', 'main'])).stdout,
  ) as IpRoute[];
  return all.filter((r) => (r.protocol ?? 'boot') === proto); // ip leaves out "boot"
}
async function batch(lab: Lab, lines: string[]): Promise<void> {
  await lab.exec('ipmp', ['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

test('routes follow by owner: bgp routes stay put, static ones move with origin, metric and MTU', async () => {
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
  try {
    await ipmpd.waitFor('placement', moved('eth0', 0), 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    const BGP = 2000;
    const STATIC = 200;
    await batch(lab, [
      ...Array.from(
        { length: BGP },
        (_, i) => `route add 198.19.${128 + (i >> 8)}.${i & 255}/32 via 198.18.11.1 proto bgp`,
      ),
      ...Array.from(
        { length: STATIC },
        (_, i) => `route add 198.19.64.${i}/32 via 198.18.11.1 proto static metric 50 mtu 1400`,
      ),
      ...Array.from(
        { length: BGP },
        (_, i) =>
          `route add blackhole 2001:db8:ff${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16)}::/64 proto bgp`,
      ),
    ]);
    // what a routing daemon would see changed (the kernel itself flags routes "linkdown" on a carrier loss)
    const owned = async (family: '-4' | '-6') =>
      JSON.stringify((await routes(lab, family, 'bgp')).map((r) => [r.dst, r.gateway, r.dev, r.metric]));
    const bgpBefore = await owned('-4');
    const bgp6Before = await owned('-6');
    assert.equal((await routes(lab, '-4', 'bgp')).filter((r) => r.dev === 'eth0').length, BGP);

    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 10_000);
    await waitUntil(
      'every static route is on eth1',
      async () =>
        (await routes(lab, '-4', 'static')).filter((r) => r.dst.startsWith('198.19.64.') && r.dev === 'eth1').length ===
        STATIC,
      10_000,
    );
    for (const r of (await routes(lab, '-4', 'static')).filter((x) => x.dst.startsWith('198.19.64.'))) {
      assert.equal(r.protocol, 'static', `${r.dst}: origin lost`);
      assert.equal(r.metric, 50, `${r.dst}: metric lost`);
      assert.equal(r.metrics?.[0]?.mtu, 1400, `${r.dst}: MTU lost`);
      assert.equal(r.gateway, '198.18.11.1');
    }
    const def = (await routes(lab, '-4', 'boot')).find((r) => r.dst === 'default');
    assert.equal(def?.dev, 'eth1', 'the default route did not follow the address');
    // the routing daemon's routes: not one touched
    assert.equal(await owned('-4'), bgpBefore);
    assert.equal(await owned('-6'), bgp6Before);
    assert.equal(ipmpd.lines.filter((l) => l.event === 'failover_error').length, 0);
    // and the metric says so, once the routes that follow the address are reported done
    await ipmpd.waitFor('the routes followed', (l) => l.event === 'routes_followed' && l.at >= t0, 10_000);
    const metrics = (await ipmpd.http('/metrics')).body;
    assert.doesNotMatch(metrics, /^ipmp_routes_moved_total\{[^}]*protocol="bgp"/m);
    const staticMoved = Number(
      /^ipmp_routes_moved_total\{group="unrealgrp1",protocol="static"\} (\d+)$/m.exec(metrics)?.[1],
    );
    assert.ok(staticMoved >= STATIC, `ipmp_routes_moved_total{protocol="static"} is ${staticMoved}`);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});

test('128 data addresses fail over and back: every address on exactly one NIC after each step', async () => {
  const COUNT = 128;
  const addresses = Array.from({ length: COUNT }, (_, i) => `198.18.11.${100 + i}`);
  const yaml = twoNicYaml({ fdt: '1s' }).replace(
    '        preferred_interface: eth0\n',
    `        preferred_interface: eth0\n${addresses.map((a) => `      - ${a}/24\n`).join('')}`,
  );
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', yaml);
  const placement = async (): Promise<Map<string, string[]>> => {
    const map = new Map<string, string[]>();
    for (const a of await lab.addresses('ipmp')) {
      const ip = a.cidr.split('/')[0]!;
      if (addresses.includes(ip)) map.set(ip, [...(map.get(ip) ?? []), a.dev]);
    }
    return map;
  };
  const everyAddressOnOne = async (): Promise<Map<string, string>> => {
    const p = await placement();
    const single = new Map<string, string>();
    for (const a of addresses) {
      const on = p.get(a) ?? [];
      assert.equal(
        on.length,
        1,
        `${a} is on [${on.join(', ')}]; its log: ${JSON.stringify(ipmpd.lines.filter((l) => JSON.stringify(l).includes(`${a}"`) || JSON.stringify(l).includes(`${a}/`)))}`,
      );
      single.set(a, on[0]!);
    }
    return single;
  };
  try {
    await waitUntil(
      'all placed',
      async () => [...(await placement()).values()].filter((on) => on.length === 1).length === COUNT,
      20_000,
    );
    await ipmpd.waitFor(
      'both NICs answered',
      () => new Set(ipmpd.lines.filter((l) => l.event === 'probe_acked').map((l) => l.ifname)).size === 2,
      15_000,
    );
    const home = await everyAddressOnOne();
    const onEth0 = addresses.filter((a) => home.get(a) === 'eth0');
    assert.ok(onEth0.length > 0 && onEth0.length < COUNT, `not spread: ${onEth0.length} on eth0`);

    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    await waitUntil(
      'all on eth1',
      async () => {
        const p = await placement();
        return addresses.every((a) => (p.get(a) ?? []).join() === 'eth1');
      },
      10_000,
    ).catch(() => undefined); // the checks below say what is wrong
    assert.equal([...(await everyAddressOnOne()).values()].filter((d) => d !== 'eth1').length, 0);
    const moves = ipmpd.lines.filter(
      (l) => l.event === 'address_moved' && l.at >= t0 && addresses.includes(String(l.ip_address)),
    );
    assert.equal(
      moves.length,
      onEth0.length,
      `each address on eth0 moved once; moves: ${JSON.stringify(moves.slice(0, 12).map((l) => [l.ip_address, l.from, l.to, l.reason, l.at - t0]))}`,
    );
    // all of them went in one decision: the last settled within a loose bound of the first (bench: p99 figures)
    const spread = Math.max(...moves.map((l) => l.at)) - Math.min(...moves.map((l) => l.at));
    assert.ok(spread < 2000, `the moves of one failover were spread over ${spread} ms`);

    const t1 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    await waitUntil(
      'failback home',
      async () => {
        const p = await placement();
        return addresses.every((a) => (p.get(a) ?? []).join() === home.get(a));
      },
      20_000,
    );
    assert.deepEqual(await everyAddressOnOne(), home);
    assert.equal(ipmpd.lines.filter((l) => l.event === 'failover_error' && l.at >= t1).length, 0);
  } finally {
    await ipmpd.stop();
    await lab.destroy();
  }
});

test('under route churn (20,000 bgp routes, 500 changes/s): probing undisturbed, targets follow host routes, cuts fail over', async () => {
  const table = { bgp4: 20_000, bgp6: 20_000, static4: 300, gateway: '198.18.11.1' };
  const lab = await Lab.create(twoNicGroup());
  const ipmpd = IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: '1s' }));
  let churn: Churn | undefined;
  const activeTargets = async (ifname: string): Promise<string[]> => {
    const r = await ipmpd.http('/api/v1/status');
    if (r.status !== 200) throw new Error(`GET /api/v1/status: ${r.status} ${r.body.slice(0, 300)}`);
    const status = JSON.parse(r.body) as {
      groups: Array<{
        interfaces: Array<{
          name: string;
          instances: Array<{ family: number; targets: Array<{ address: string; status: string }> }>;
        }>;
      }>;
    };
    const iface = status.groups[0]!.interfaces.find((i) => i.name === ifname)!;
    return iface.instances
      .filter((i) => i.family === 4)
      .flatMap((i) => i.targets.filter((t) => t.status === 'active').map((t) => t.address));
  };
  try {
    await ipmpd.waitFor('placement', moved('eth0', 0), 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await loadTable(lab, 'ipmp', table);
    churn = startChurn(lab, 'ipmp', table, 500);
    await new Promise((r) => setTimeout(r, 2000));

    // no probe is lost to the churn
    const q0 = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(
      ipmpd.lines.filter((l) => l.event === 'probe_lost' && l.at >= q0).length,
      0,
      'probes timed out during churn',
    );
    assert.ok(churn.written >= 2500, `only ${churn.written} route changes written`);

    // topology 1.3: a host route names a target, also in the middle of the churn
    assert.deepEqual(await activeTargets('eth0'), ['198.18.11.1']);
    await lab.exec('ipmp', ['ip', 'route', 'add', '198.18.11.21/32', 'via', '198.18.11.21']);
    await waitUntil(
      'the host route target is probed',
      async () => (await activeTargets('eth0'))[0] === '198.18.11.21',
      10_000,
    );
    await lab.exec('ipmp', ['ip', 'route', 'del', '198.18.11.21/32', 'via', '198.18.11.21']);
    await waitUntil(
      'the host route target is gone',
      async () => !(await activeTargets('eth0')).includes('198.18.11.21'),
      10_000,
    );

    // a link cut: the address and the static routes move at once
    const t0 = Date.now();
    await lab.cutCarrier('ipmp', 'eth0');
    const move = await ipmpd.waitFor('the move to eth1', moved('eth1', t0), 10_000);
    assert.ok(move.at - t0 < 1000, `moved ${move.at - t0} ms after the cut`);
    await waitUntil(
      'the static routes are on eth1',
      async () =>
        (await routes(lab, '-4', 'static')).filter((r) => r.dev === 'eth1' && r.metric === 50).length === table.static4,
      10_000,
    );
    const t1 = Date.now();
    await lab.restoreCarrier('ipmp', 'eth0');
    await ipmpd.waitFor('failback', moved('eth0', t1), 15_000);

    // a silent cut: within a few FDTs
    const t2 = Date.now();
    await lab.silentCut('ipmp', 'eth0');
    const failed = await ipmpd.waitFor(
      'eth0 failed by probes',
      (l) => l.event === 'interface_failed' && l.interface === 'eth0' && l.at >= t2,
      10_000,
    );
    assert.ok(failed.at - t2 < 3000, `silent failure detected after ${failed.at - t2} ms`);
    await ipmpd.waitFor('the move to eth1', moved('eth1', t2), 5000);
    assert.equal(ipmpd.lines.filter((l) => l.event === 'failover_error' || l.event === 'rtnetlink_error').length, 0);
  } finally {
    await churn?.stop();
    await ipmpd.stop();
    await lab.destroy();
  }
});
