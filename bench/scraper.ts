// Scrapes blackbox_exporter's /probe at a fixed rate, one target after the
// other, over keep-alive connections, as Prometheus would at that rate. Runs
// inside the lab namespace; on SIGUSR1 prints {"ok":N,"failed":M}, on SIGTERM prints them and exits.
//
//   node scraper.js <base-url> <probes-per-second> <target>...

import http from 'node:http';

const [base, rateText, ...targets] = process.argv.slice(2);
const rate = Number(rateText);
if (!base || !(rate > 0) || targets.length === 0) {
  process.stderr.write('usage: scraper.js <base-url> <probes-per-second> <target>...\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let ok = 0;
let failed = 0;
let next = 0;
const timer = setInterval(() => {
  const target = targets[next++ % targets.length]!;
  http
    .get(`${base}/probe?module=icmp&target=${target}`, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (/^probe_success 1$/m.test(body) ? ok++ : failed++));
    })
    .on('error', () => failed++);
}, 1000 / rate);
// SIGUSR1: print the counts so far (the benchmark reads them at a window's edges)
process.on('SIGUSR1', () => process.stdout.write(`${JSON.stringify({ ok, failed })}\n`));
process.once('SIGTERM', () => {
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ ok, failed })}\n`);
  process.exit(0);
});
