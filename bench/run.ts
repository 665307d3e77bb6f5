// npm run bench -- <name> [options]: each benchmark builds its own lab and prints a table.

import { arpProbeBench } from './arpProbe.js';
import { campaignBench } from './campaign.js';
import { convergenceBench } from './convergence.js';
import { detectionSimBench } from './detectionSim.js';
import { failoverBench } from './failover.js';
import { probeCostBench, rttAccuracyBench } from './peers.js';
import { profileBench } from './profile.js';
import { routesBench } from './routes.js';
import { scaleBench } from './scale.js';
import { scrapeBench } from './scrape.js';
import { soakBench } from './soak.js';

const benches: Record<string, (args: string[]) => Promise<string>> = {
  failover: failoverBench,
  'arp-probe': arpProbeBench,
  'detection-sim': detectionSimBench,
  'probe-cost': probeCostBench,
  'rtt-accuracy': rttAccuracyBench,
  scale: scaleBench,
  profile: profileBench,
  campaign: campaignBench,
  soak: soakBench,
  scrape: scrapeBench,
  routes: routesBench,
  convergence: convergenceBench,
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(2);
}
bench(args).then(
  (out) => process.stdout.write(out),
  (err: Error) => {
    process.stderr.write(`bench ${name}: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
