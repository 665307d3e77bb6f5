// npm start's demo: it comes up, serves ipmpd's metrics on localhost of the
// root namespace, and leaves nothing behind on SIGTERM.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listNamespaces } from '../lab/cleanup.js';

const DEMO = fileURLToPath(new URL('../../demo/main.js', import.meta.url));
const PORT = 19740;

test('the demo serves metrics on localhost and tears down on SIGTERM', async () => {
  const demo = spawn(process.execPath, [DEMO], { env: { ...process.env, IPMPD_DEMO_PORT: String(PORT) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
  try {
    let body = '';
    const end = Date.now() + 40_000;
    while (!/^ipmp_address_holder\{.*device="eth0"\} 1$/m.test(body) || !/ADDRESS\s+STATE\s+INBOUND/.test(out)) {
      if (Date.now() > end) throw new Error(`no metrics from the demo on localhost:${PORT}; its output:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
      body = await fetch(`http://127.0.0.1:${PORT}/metrics`).then((r) => r.text(), () => '');
    }
    assert.match(out, /metrics at http:\/\/127\.0\.0\.1:19740\/metrics/);
    assert.match(out, /ADDRESS\s+STATE\s+INBOUND/);
  } finally {
    demo.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  assert.deepEqual(listNamespaces().filter((n) => n.startsWith(`ipmpd-${demo.pid}-`)), []);
});
