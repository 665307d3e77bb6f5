import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DAEMON_NODE_FLAGS } from '../scenarios/ipmpd.js';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

test('the systemd unit verifies cleanly and grants only NET_RAW and NET_ADMIN', async () => {
  const unit = `${ROOT}deploy/systemd/ipmpd.service`;
  const r = await run('systemd-analyze', ['verify', unit]).catch((e: { stdout: string; stderr: string }) => e);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'systemd-analyze verify complained');
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$/m);
  assert.match(text, /^NoNewPrivileges=yes$/m);
  assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  // readiness and the watchdog through the notify protocol (src/daemon/systemdNotify.ts)
  assert.match(text, /^Type=notify$/m);
  assert.match(text, /^WatchdogSec=\d+s$/m);
  assert.match(text, /^Restart=on-failure$/m, 'a watchdog timeout must lead to a restart');
  assert.match(text, /^RuntimeDirectoryMode=0755$/m, 'the status socket must be reachable by every user');
});

test('the Kubernetes manifests: host network, only NET_ADMIN and NET_RAW, probes on the health endpoints, a PodMonitor on the metrics port', () => {
  const docs = parseAllDocuments(readFileSync(`${ROOT}deploy/kubernetes/daemonset.yaml`, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Record<string, any>;
  });
  const ds = docs.find((d) => d.kind === 'DaemonSet')!;
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
  const c = pod.containers[0];
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
  assert.equal(c.livenessProbe.httpGet.path, '/-/healthy');
  assert.equal(c.readinessProbe.httpGet.path, '/-/ready');
  assert.equal(c.ports[0].containerPort, 9740);
  const pm = docs.find((d) => d.kind === 'PodMonitor')!;
  assert.equal(pm.spec.podMetricsEndpoints[0].port, c.ports[0].name);
  assert.deepEqual(pm.spec.selector.matchLabels, ds.spec.template.metadata.labels);
});

test("the Dockerfile's entrypoint is the built CLI, and runs here with the same files", async () => {
  const text = readFileSync(`${ROOT}Dockerfile`, 'utf8');
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(text)![1]!) as string[];
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(text)![1]!) as string[];
  assert.deepEqual(entry, ['node', ...DAEMON_NODE_FLAGS, 'dist/src/cli/main.js']);
  assert.ok(existsSync(`${ROOT}${entry.at(-1)}`));
  assert.deepEqual(cmd.slice(0, 2), ['run', '--config.file']);
  const version = await run(entry[0]!, [...entry.slice(1), '--version'], { cwd: ROOT });
  const pkg = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
  // Prometheus style: version, branch, revision, build date, runtime version, platform
  assert.match(
    version.stdout,
    new RegExp(
      `^ipmpd, version ${pkg.replace(/\./g, '\\.')} \\(branch: \\S+, revision: \\S+\\)\n  build date: +\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\n  node version: +v\\d+\\.\\d+\\.\\d+\n  platform: +linux/\\w+\n$`,
    ),
  );
  assert.match(text, /HEALTHCHECK .*127\.0\.0\.1:9740\/-\/healthy/);
  // capabilities that survive no-new-privileges: uid 0 with a reduced set, never file capabilities
  assert.match(text, /^USER root$/m);
  assert.doesNotMatch(text, /setcap/);
  // npm ci runs node-gyp on binding.gyp: it and native/ must be in the image before it
  const npmCi = text.indexOf('RUN npm ci');
  assert.ok(
    text.indexOf('binding.gyp') >= 0 && text.indexOf('binding.gyp') < npmCi && text.indexOf('COPY native') < npmCi,
    'binding.gyp and native/ copied before npm ci',
  );
  // and every addon binding.gyp builds reaches the runtime stage
  const targets = [...readFileSync(`${ROOT}binding.gyp`, 'utf8').matchAll(/"target_name": "([^"]+)"/g)].map(
    (m) => m[1]!,
  );
  assert.ok(targets.length >= 2);
  for (const t of targets)
    assert.match(text, new RegExp(`build/Release/${t}\\.node`), `${t}.node is not copied to the runtime image`);
});

test('every way ipmpd is started runs node with the same memory flags as the lab tests and benches', () => {
  const flags = DAEMON_NODE_FLAGS.join(' ');
  assert.match(
    readFileSync(`${ROOT}deploy/systemd/ipmpd.service`, 'utf8'),
    new RegExp(`^ExecStart=/usr/bin/node ${flags} `, 'm'),
  );
  assert.match(readFileSync(`${ROOT}deploy/debian/build.sh`, 'utf8'), new RegExp(`^exec /usr/bin/node ${flags} `, 'm'));
});
