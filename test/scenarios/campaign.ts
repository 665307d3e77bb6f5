// A randomized, seeded fault campaign against the real ipmpd in a seed-A lab.
// Each step injects one fault or heals one: link flaps, silent cuts,
// loss bursts, the probe target going deaf, NIC removal and re-creation, a NIC
// renamed away from its member name and back (down, rename, up: it has left the
// group meanwhile), and kill -9 of ipmpd right after a failover starts, then a restart.
//
// Checked throughout:
// - after every step, within a bound, each data address is on exactly one NIC, a
//   healthy one, whenever one exists (healthy = present, carrier, on the switch,
//   target answering); on at most one otherwise
// - never on two NICs for longer than the instant of a move (sampled every ~30 ms;
//   the window after a kill -9 is the restart's to clean up)
// - after a restart, ipmpd converges within FDT of its `started` line
//
// The same seed replays the same steps: `IPMPD_CAMPAIGN_SEED=... npm test`, or
// `npm run bench -- campaign --seed N --steps 1000`.

import { MIN_RECOVERY_TIME_MS } from '../../src/core/constants.js';
import { Lab } from '../lab/lab.js';
import { twoNicGroup } from '../lab/topologies.js';
import { below, pick, rng, type Rng } from '../rng.js';
import { IpmpdProcess, twoNicYaml } from './ipmpd.js';

const NICS = ['eth0', 'eth1'] as const;
type Nic = (typeof NICS)[number];
const DATA = ['198.18.11.5', '2001:db8:11::5'];
const TARGET_HOST = 'router';

export interface CampaignOptions {
  seed: number;
  steps: number;
  fdtMs: number;
  /** progress lines (one per step) */
  log?: (line: string) => void;
}

export interface CampaignReport {
  seed: number;
  steps: number;
  counts: Record<string, number>;
  violations: string[];
  /** ms from each step's end until the addresses were where they must be */
  settleMs: number[];
  /** ms from each restarted ipmpd's `started` line until converged */
  restartConvergeMs: number[];
  /** longest time an address was seen on two NICs outside a restart window */
  longestDoubleMs: number;
}

interface NicState {
  /** present under its member name (a renamed NIC is not: it has left the group) */
  present: boolean;
  carrier: boolean;
  attached: boolean;
  /** exists, but under the name `${nic}x` */
  renamed: boolean;
}

const renamedName = (n: Nic) => `${n}x`;

/** Down, rename, up, at once (the kernel renames only a NIC that is down). */
async function renameNic(lab: Lab, from: string, to: string): Promise<void> {
  await lab.exec('ipmp', ['ip', '-batch', '-'], {
    input: `link set ${from} down\nlink set ${from} name ${to}\nlink set ${to} up\n`,
  });
}

type Holders = Map<string, string[]>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const holdersNow = (lab: Lab): Promise<Holders> => lab.holdersOf('ipmp', DATA);

const describeHolders = (h: Holders) => [...h].map(([a, devs]) => `${a}@${devs.join('+') || 'nowhere'}`).join(' ');

export async function runCampaign(opts: CampaignOptions): Promise<CampaignReport> {
  const r: Rng = rng(opts.seed);
  const fdt = opts.fdtMs;
  const nic: Record<Nic, NicState> = {
    eth0: { present: true, carrier: true, attached: true, renamed: false },
    eth1: { present: true, carrier: true, attached: true, renamed: false },
  };
  let targetDeaf = false;
  let targetRevivedAt = -Infinity;
  const report: CampaignReport = {
    seed: opts.seed,
    steps: 0,
    counts: {},
    violations: [],
    settleMs: [],
    restartConvergeMs: [],
    longestDoubleMs: 0,
  };
  const healthy = (n: Nic) => nic[n].present && nic[n].carrier && nic[n].attached && !targetDeaf;

  const lab = await Lab.create(twoNicGroup());
  const start = (dir?: string) =>
    IpmpdProcess.start(lab, 'ipmp', twoNicYaml({ fdt: `${fdt}ms`, data6: '2001:db8:11::5/64' }), {
      logLevel: 'info',
      ...(dir ? { dir } : {}),
    });
  let ipmpd = start();
  let sampling = true;
  let restartWindowUntil = 0; // doubles before this instant belong to a kill -9's aftermath
  const sampler = (async () => {
    const since = new Map<string, number>();
    while (sampling) {
      const t = Date.now();
      const h = await holdersNow(lab).catch(() => undefined);
      if (h) {
        for (const [a, devs] of h) {
          if (devs.length < 2 || t < restartWindowUntil) {
            since.delete(a);
            continue;
          }
          const first = since.get(a) ?? t;
          since.set(a, first);
          report.longestDoubleMs = Math.max(report.longestDoubleMs, t - first);
          if (t - first > 500) {
            report.violations.push(`step ${report.steps}: ${a} on ${devs.join(' and ')} for over 500 ms`);
            since.set(a, Infinity); // report an episode once
          }
        }
      }
      await sleep(30);
    }
  })();

  /** The group's FDT now: in.mpathd's rule raises it when RTTs (a loaded host's too) need more. */
  const effectiveFdt = (): number => {
    const last = ipmpd.lines.filter((l) => l.event === 'fdt_raised' || l.event === 'fdt_lowered').at(-1);
    return last ? Math.max(fdt, Number(last.fdt_ms)) : fdt;
  };
  // detection within FDT, repair after ten answered probes (~1.43 FDT), an FDT of quiet after
  // a link comes back: the bound is generous, what matters is that it always converges
  // A target that was dead is retried only after in.mpathd's MIN_RECOVERY_TIME (60 s): until
  // then a NIC that needs probe answers to be repaired cannot be, and the bound says so.
  const recovering = () => Date.now() - targetRevivedAt < MIN_RECOVERY_TIME_MS + 4 * effectiveFdt();
  const bound = () => 4 * effectiveFdt() + 3000 + (recovering() ? MIN_RECOVERY_TIME_MS : 0);
  const recentLines = () =>
    ipmpd.lines
      .filter((l) => l.level !== 'debug' && l.event !== 'probe_acked')
      .slice(-8)
      .map(
        (l) =>
          `${l.event ?? l.msg}${l.interface ? ` ${String(l.interface)}` : ''}${l.fdt_ms ? ` ${String(l.fdt_ms)}` : ''}`,
      )
      .join('; ');

  /** Poll until every data address is where it must be; a violation if not within `boundMs`. */
  const settle = async (what: string, boundMs: number): Promise<number | undefined> => {
    const t0 = Date.now();
    let last: Holders = new Map();
    for (;;) {
      last = await holdersNow(lab);
      const good = NICS.filter(healthy);
      // with no healthy NIC, an address may rest anywhere or nowhere (ipmpd does not put
      // one on a NIC without carrier), but never on two
      const ok = [...last.values()].every((devs) =>
        good.length === 0 ? devs.length <= 1 : devs.length === 1 && good.includes(devs[0] as Nic),
      );
      if (ok) return Date.now() - t0;
      if (Date.now() - t0 > boundMs) {
        const state = NICS.map(
          (n) =>
            `${n}:${nic[n].renamed ? `renamed ${renamedName(n)},` : nic[n].present ? '' : 'removed,'}${nic[n].carrier ? '' : 'no-carrier,'}${nic[n].attached ? '' : 'detached,'}${healthy(n) ? 'healthy' : 'unhealthy'}`,
        ).join(' ');
        report.violations.push(
          `step ${report.steps} (${what}): after ${boundMs} ms ${describeHolders(last)}; ${state}${targetDeaf ? ' target-deaf' : ''}; ipmpd said: ${recentLines()}`,
        );
        return undefined;
      }
      await sleep(50);
    }
  };

  try {
    await ipmpd.waitFor('first placement', (l) => l.event === 'address_moved', 15_000);
    await lab.exec('ipmp', ['ip', 'route', 'add', 'default', 'via', '198.18.11.1']);
    await settle('start', bound());

    const actions = ['flap', 'silent', 'loss', 'target', 'remove', 'rename', 'kill', 'heal'] as const;
    // every kind of fault early (a seeded shuffle), then any
    const firstRound = [...actions].sort(() => r() - 0.5);
    for (let step = 1; step <= opts.steps; step++) {
      report.steps = step;
      // mostly hit the NIC holding the address: that is what makes ipmpd move it
      const holderName = (await holdersNow(lab)).get(DATA[0]!)?.[0];
      const holder = NICS.find((m) => m === holderName); // not a renamed NIC: that one has left the group
      const n = holder && r() < 0.7 ? holder : pick(r, NICS);
      const action = firstRound[step - 1] ?? pick(r, actions);
      let what: string = action;
      switch (action) {
        case 'flap': {
          if (!nic[n].present || !nic[n].carrier) break;
          const down = below(r, 2 * fdt);
          await lab.cutCarrier('ipmp', n);
          await sleep(down);
          await lab.restoreCarrier('ipmp', n);
          what = `flap ${n} ${down} ms`;
          break;
        }
        case 'silent':
          if (!nic[n].present) break;
          if (nic[n].attached) await lab.silentCut('ipmp', n);
          else await lab.reattach('ipmp', n);
          nic[n].attached = !nic[n].attached;
          what = `${nic[n].attached ? 'reattach' : 'silent cut'} ${n}`;
          break;
        case 'loss': {
          if (!nic[n].present) break;
          const percent = pick(r, [10, 30, 60, 100]);
          const ms = Math.round((0.2 + 1.8 * r()) * fdt);
          await lab.setLoss('ipmp', n, percent);
          await sleep(ms);
          await lab.setLoss('ipmp', n, 0);
          what = `loss ${percent}% on ${n} for ${ms} ms`;
          break;
        }
        case 'target':
          if (targetDeaf) await lab.unsilenceHost(TARGET_HOST);
          else await lab.silenceHost(TARGET_HOST);
          targetDeaf = !targetDeaf;
          if (!targetDeaf) targetRevivedAt = Date.now();
          what = targetDeaf ? 'target deaf' : 'target answers';
          break;
        case 'remove':
          if (nic[n].renamed) {
            await lab.exec('ipmp', ['ip', 'link', 'del', renamedName(n)]);
            nic[n] = { present: false, carrier: true, attached: true, renamed: false };
            what = `remove ${renamedName(n)} (renamed ${n})`;
          } else if (nic[n].present) {
            await lab.removeNic('ipmp', n);
            nic[n] = { present: false, carrier: true, attached: true, renamed: false };
            what = `remove ${n}`;
          } else {
            await lab.recreateNic('ipmp', n);
            nic[n] = { present: true, carrier: true, attached: true, renamed: false };
            what = `re-create ${n}`;
          }
          break;
        case 'rename':
          if (nic[n].renamed) {
            await renameNic(lab, renamedName(n), n);
            nic[n] = { ...nic[n], present: true, renamed: false };
            what = `rename ${renamedName(n)} back to ${n}`;
          } else if (nic[n].present) {
            await renameNic(lab, n, renamedName(n));
            nic[n] = { ...nic[n], present: false, renamed: true };
            what = `rename ${n} to ${renamedName(n)}`;
          }
          break;
        case 'kill': {
          // A restarted ipmpd no longer knows that a renamed NIC was a member: an address
          // still on it (it had nowhere else to go) is not its own any more (README,
          // "Renamed NICs"). That is a documented limit, not something to find again here.
          const onRenamed = [...(await holdersNow(lab)).values()].some((devs) =>
            NICS.some((m) => nic[m].renamed && devs.includes(renamedName(m))),
          );
          if (onRenamed) {
            what = 'kill skipped: a renamed NIC holds a data address';
            break;
          }
          // start a failover (carrier loss on the holder), kill -9 inside it, restart
          const victim = holder && nic[holder].carrier ? holder : n;
          const delay = below(r, 40);
          if (nic[victim].present && nic[victim].carrier) {
            await lab.cutCarrier('ipmp', victim);
            nic[victim].carrier = false;
          }
          await sleep(delay);
          restartWindowUntil = Infinity;
          await ipmpd.stop('SIGKILL');
          const dir = ipmpd.dir;
          ipmpd = start(dir);
          const started = await ipmpd.waitFor('restart', (l) => l.event === 'started', 15_000);
          const settleFrom = Date.now();
          const converged = await settle(`restart after kill -9 ${delay} ms into a failover of ${victim}`, bound());
          restartWindowUntil = 0;
          if (converged !== undefined) {
            const sinceStarted = Math.max(0, settleFrom + converged - started.at);
            report.restartConvergeMs.push(sinceStarted);
            if (sinceStarted > effectiveFdt() && !recovering() && !targetDeaf)
              report.violations.push(
                `step ${step}: converged ${sinceStarted} ms after restart (FDT ${effectiveFdt()} ms)`,
              );
          }
          what = `kill -9 ${delay} ms after cutting ${victim}'s carrier, restart`;
          break;
        }
        case 'heal': {
          for (const m of NICS) {
            if (nic[m].renamed) await renameNic(lab, renamedName(m), m);
            else if (!nic[m].present) await lab.recreateNic('ipmp', m);
            if (nic[m].present || nic[m].renamed) {
              if (!nic[m].carrier) await lab.restoreCarrier('ipmp', m);
              if (!nic[m].attached) await lab.reattach('ipmp', m);
            }
            nic[m] = { present: true, carrier: true, attached: true, renamed: false };
          }
          if (targetDeaf) {
            await lab.unsilenceHost(TARGET_HOST);
            targetRevivedAt = Date.now();
          }
          targetDeaf = false;
          what = 'heal everything';
          break;
        }
      }
      // a carrier cut by 'kill' stays cut: restore it on the next flap of that NIC
      if (action === 'flap' && nic[n].present && !nic[n].carrier) {
        await lab.restoreCarrier('ipmp', n);
        nic[n].carrier = true;
      }
      report.counts[action] = (report.counts[action] ?? 0) + 1;
      const ms = await settle(what, bound());
      if (ms !== undefined) report.settleMs.push(ms);
      // and it stays settled: nothing changed, so nothing may move to a worse place
      if (ms !== undefined) {
        await sleep(below(r, fdt));
        // a failback may be under way (on two NICs for the moment of a move): allow it to finish
        await settle(`${what}, held`, 500);
      }
      opts.log?.(`step ${step}/${opts.steps}: ${what}: ${ms === undefined ? 'VIOLATION' : `settled in ${ms} ms`}`);
    }
  } finally {
    sampling = false;
    await sampler;
    await ipmpd.stop();
    await lab.destroy();
  }
  return report;
}
