// The demo's alerting: when Prometheus and Alertmanager are installed, they run
// inside the lab's IPMP host namespace (no clash with a Prometheus on this
// machine) with the shipped rules and the shipped Alertmanager example, whose
// receivers are a small webhook that records the pages. The live view shows
// the alerts Alertmanager holds (firing or inhibited) and the last pages.

import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/lab/lab.js';
import { renderTable } from '../src/stat/views.js';

const RULES = fileURLToPath(new URL('../../alerts/ipmpd-rules.yml', import.meta.url));
const AM_CONFIG = fileURLToPath(new URL('../../alerts/alertmanager.example.yml', import.meta.url));
const WEBHOOK = fileURLToPath(new URL('../test/scenarios/fixtures/webhook.js', import.meta.url));
const HOST = 'ipmp';
/** Ports inside the lab namespace; the demo forwards the first two to localhost. */
export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
const WEBHOOK_PORT = 9095; // where alertmanager.example.yml's receivers point

function onPath(names: string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/** Debian ships Alertmanager as prometheus-alertmanager, upstream as alertmanager. */
export function alertingBinaries(): { prometheus: string; alertmanager: string } | undefined {
  const prometheus = onPath(['prometheus']);
  const alertmanager = onPath(['prometheus-alertmanager', 'alertmanager']);
  return prometheus && alertmanager ? { prometheus, alertmanager } : undefined;
}

interface AmAlert {
  labels: Record<string, string>;
  startsAt: string;
  status: { state: string; inhibitedBy: string[] };
}

export class DemoAlerting {
  private readonly pages: string[] = [];

  private constructor(
    private readonly lab: Lab,
    private readonly dir: string,
  ) {}

  /** Starts Prometheus, Alertmanager and the webhook in the lab; children die with the lab. */
  static start(lab: Lab, bin: { prometheus: string; alertmanager: string }, ipmpdPort: number): DemoAlerting {
    const dir = mkdtempSync(join(tmpdir(), 'ipmpd-demo-alerting-'));
    const self = new DemoAlerting(lab, dir);
    // evaluation_interval as the README recommends; scrape every 5 s as its example does
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 5s\n  evaluation_interval: 15s\nrule_files: ['${RULES}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:${ALERTMANAGER_PORT}']\nscrape_configs:\n  - job_name: ipmpd\n    static_configs:\n      - targets: ['127.0.0.1:${ipmpdPort}']\n`,
    );
    const hook = lab.spawn(HOST, [process.execPath, WEBHOOK, String(WEBHOOK_PORT)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let buf = '';
    hook.stdout!.setEncoding('utf8');
    hook.stdout!.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        self.record(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    lab.spawn(
      HOST,
      [
        bin.alertmanager,
        `--config.file=${AM_CONFIG}`,
        `--storage.path=${join(dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${ALERTMANAGER_PORT}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    lab.spawn(
      HOST,
      [
        bin.prometheus,
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus')}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
      ],
      { stdio: 'ignore' },
    );
    return self;
  }

  private record(line: string): void {
    try {
      const { path, body } = JSON.parse(line) as {
        path: string;
        body: { alerts: Array<{ status: string; labels: Record<string, string> }> };
      };
      const what = body.alerts
        .map((a) => `${a.labels.alertname} ${a.labels.device ?? a.labels.group ?? ''} ${a.status}`.replace(/\s+/g, ' '))
        .join(', ');
      this.pages.unshift(`${new Date().toLocaleTimeString()} → ${path.replace(/^\//, '')}: ${what}`);
      this.pages.length = Math.min(this.pages.length, 3);
    } catch {
      // not a notification: ignore
    }
  }

  /** The live view's alerting section. */
  async view(): Promise<string> {
    const r = await this.lab.exec(
      HOST,
      ['curl', '-s', '--max-time', '2', `http://127.0.0.1:${ALERTMANAGER_PORT}/api/v2/alerts`],
      { allowFail: true, timeoutMs: 5000 },
    );
    if (r.code !== 0 || !r.stdout.startsWith('[')) return 'alerts: Alertmanager is starting...\n';
    const alerts = (JSON.parse(r.stdout) as AmAlert[]).sort(
      (a, b) =>
        a.labels.alertname!.localeCompare(b.labels.alertname!) ||
        (a.labels.device ?? '').localeCompare(b.labels.device ?? ''),
    );
    const rows = alerts.map((a) => ({
      ALERT: a.labels.alertname ?? '',
      SEVERITY: a.labels.severity ?? '',
      GROUP: a.labels.group ?? '',
      DEVICE: a.labels.device ?? '',
      STATE:
        a.status.state === 'suppressed' && a.status.inhibitedBy.length
          ? 'inhibited'
          : a.status.state === 'active'
            ? 'firing'
            : a.status.state,
      SINCE: new Date(a.startsAt).toLocaleTimeString(),
    }));
    return [
      rows.length
        ? renderTable(['ALERT', 'SEVERITY', 'GROUP', 'DEVICE', 'STATE', 'SINCE'], rows)
        : 'no alerts firing (a state must hold for its whole window: 1 min for a failed group)\n',
      `pages and tickets: ${this.pages.length ? '' : 'none yet'}`,
      ...this.pages.map((p) => `  ${p}`),
      '',
    ].join('\n');
  }

  /** The children stop with the lab; this removes their data. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
