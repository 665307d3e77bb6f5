import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDuration, formatDuration } from '../../../src/config/duration.js';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfigText } from '../../../src/config/load.js';
import { configToYaml } from '../../../src/config/print.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

/** Line and column (1-based) of the first occurrence of `needle` in `text`. */
function where(text: string, needle: string, last = false): { line: number; column: number } {
  const at = last ? text.lastIndexOf(needle) : text.indexOf(needle);
  assert.ok(at >= 0, `test bug: ${needle} not in text`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

function rejects(text: string, needle: string, message: RegExp, last = false): void {
  try {
    parseConfigText(text, 'ipmpd.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    const expected = where(text, needle, last);
    const issue = err.issues.find((i) => message.test(i.message));
    assert.ok(issue, `no issue matching ${message}; got:\n${err.message}`);
    assert.deepEqual(
      { line: issue.line, column: issue.column },
      expected,
      `${issue.message} reported at ${issue.line}:${issue.column}`,
    );
    assert.equal(issue.file, 'ipmpd.yaml');
    assert.match(err.message, new RegExp(`^ipmpd\\.yaml:${expected.line}:${expected.column}: `, 'm'));
    return;
  }
  assert.fail(`accepted a config that should fail with ${message}`);
}

const group = (body: string) => `groups:\n  - name: g\n${body}`;
const ifaces = `    interfaces:\n      - name: eth0\n        test_address: 198.18.0.6/24\n      - name: eth1\n        test_address: 198.18.0.7/24\n`;

test('every example validates', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const c = parseConfigText(readFileSync(join(EXAMPLES, f), 'utf8'), f);
    assert.ok(c.groups.length >= 1, f);
    assert.ok(c.groups[0]!.dataAddresses.length >= 1, f);
  }
});

test("defaults are in.mpathd's", () => {
  const c = parseConfigText('', 'empty.yaml');
  assert.equal(c.failureDetectionTimeMs, 10_000);
  assert.equal(c.failback, true);
  assert.equal(c.trackInterfacesOnlyWithGroups, true);
  assert.equal(c.onAllTargetsLost, 'rediscover');
  assert.deepEqual(c.announce, {
    count: 5,
    intervalMs: 0,
    secondBurstAfterMs: 5000,
    refreshIntervalMs: 0,
    untilTrafficMs: 60000,
  });
  assert.deepEqual(c.groups, []);
});

test('announce.until_traffic: a duration, 0s turns re-announcing a silent address off, printed back', () => {
  assert.equal(parseConfigText('announce:\n  until_traffic: 2m\n', 'a.yaml').announce.untilTrafficMs, 120_000);
  const off = parseConfigText('announce:\n  until_traffic: 0s\n', 'a.yaml');
  assert.equal(off.announce.untilTrafficMs, 0);
  assert.match(configToYaml(off), /until_traffic: 0s/);
  assert.throws(() => parseConfigText('announce:\n  until_traffic: soon\n', 'a.yaml'), ConfigError);
});

test('round trip: the printed effective config parses to the same config', () => {
  const text = readFileSync(join(EXAMPLES, 'two-nic-group.yaml'), 'utf8');
  const c = parseConfigText(text, 'a.yaml');
  assert.deepEqual(parseConfigText(configToYaml(c), 'b.yaml'), c);
});

test('follow_route_protocols: names or numbers, canonical, defaulting to what nobody else moves', () => {
  assert.deepEqual(parseConfigText('failback: true\n', 'ipmpd.yaml').followRouteProtocols, [
    'unspec',
    'redirect',
    'kernel',
    'boot',
    'static',
    'ra',
    'dhcp',
  ]);
  assert.deepEqual(
    parseConfigText('follow_route_protocols: [STATIC, 186, 250, static]\n', 'ipmpd.yaml').followRouteProtocols,
    ['static', 'bgp', '250'],
  );
});

test('IPv6 data addresses are canonicalised', () => {
  const c = parseConfigText(group(`${ifaces}    data_addresses:\n      - 2001:DB8:0:0::5/64\n`), 'x');
  assert.deepEqual(c.groups[0]!.dataAddresses[0]!.address, { address: '2001:db8::5', prefixLength: 64, family: 6 });
});

test('a misspelt key at any depth gets the schema key it resembles', () => {
  rejects(
    'failureDetectionTime: 10s\n',
    'failureDetectionTime',
    /unknown key "failureDetectionTime" \(did you mean "failure_detection_time"\?\)/,
  );
  rejects('announce:\n  second-burst-after: 5s\n', 'second-burst', /did you mean "second_burst_after"/);
  rejects(
    group(`${ifaces}    data_addresses:\n      - address: 198.18.0.5/24\n        preferredInterface: eth0\n`),
    'preferredInterface',
    /did you mean "preferred_interface"/,
  );
  rejects('webhooks:\n  - url: http://127.0.0.1:1/\n    Retries: 2\n', 'Retries', /did you mean "retries"/);
  rejects('failbak: true\n', 'failbak', /^unknown key "failbak"$/);
});

test('errors name the file, line and column', () => {
  rejects('failure_detection_time: 10s\nfailbak: true\n', 'failbak', /unknown key "failbak"/);
  rejects(group(`${ifaces}    data_adresses: []\n`), 'data_adresses', /unknown key "data_adresses"/);
  rejects('failure_detection_time: 50ms\n', '50ms', /at least 100ms/);
  rejects('failure_detection_time: ten\n', 'ten', /not a duration/);
  rejects(
    group(`${ifaces}    data_addresses:\n      - 198.18.0.300/24\n`),
    '198.18.0.300/24',
    /not an IPv4 or IPv6 address/,
  );
  rejects(group(`${ifaces}    data_addresses:\n      - 198.18.0.5/33\n`), '198.18.0.5/33', /prefix length/);
  rejects(group(`${ifaces}    data_addresses:\n      - 198.18.0.5\n`), '198.18.0.5\n', /needs a prefix length/);
  rejects(
    group(`${ifaces}    data_addresses:\n      - 198.18.0.6/24\n`),
    '198.18.0.6/24',
    /already used as the test address of eth0/,
    true,
  );
  rejects(
    group(`${ifaces}    data_addresses:\n      - address: 198.18.0.5/24\n        preferred_interface: eth7\n`),
    'eth7',
    /not a member/,
  );
  rejects(group(`${ifaces}    probe_targets: [198.18.0.1/24]\n`), '198.18.0.1/24', /without a prefix length/);
  rejects(
    `${group(ifaces)}  - name: h\n    interfaces:\n      - name: eth1\n`,
    'eth1',
    /already a member of group g/,
    true,
  );
  rejects(
    `${group(`${ifaces}    data_addresses: [198.18.0.5/24]\n`)}  - name: h\n    interfaces:\n      - name: eth2\n    data_addresses: [198.18.0.5/24]\n`,
    '198.18.0.5/24',
    /already used as a data address of group g/,
    true,
  );
  rejects(
    group('    interfaces:\n      - name: eth0\n        test_address: [198.18.0.6/24, 198.18.0.8/24]\n'),
    '198.18.0.8/24',
    /more than one IPv4 test address/,
  );
  rejects(
    group('    interfaces:\n      - name: eth0\n        test_address: 2001:db8::6/64\n'),
    '2001:db8::6/64',
    /must be link-local/,
  );
  rejects(group('    interfaces:\n      - name: eth/0\n'), 'eth/0', /not a valid Linux interface name/);
  rejects(group('    interfaces: []\n'), '[]', /at least one interface/);
  rejects('follow_route_protocols: [static, quagga]\n', 'quagga', /"quagga" is not a route origin/);
  rejects('follow_route_protocols: [static, 300]\n', '300', /"300" is not a route origin/);
  rejects(
    'groups:\n  - name: g\n    interfaces:\n      - name: eth0\n  - name: g\n    interfaces:\n      - name: eth1\n',
    'g\n    interfaces:\n      - name: eth1',
    /defined twice/,
  );
  // a YAML syntax error: the unterminated flow sequence is reported where the input ends
  assert.throws(() => parseConfigText('failback: [\n', 'ipmpd.yaml'), /ipmpd\.yaml:2:1: .*Flow sequence/);
});

test('durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', '10', 's', '1.5s', '-1s', '10 s', '1s1m']) assert.equal(parseDuration(bad), undefined, bad);
  for (const ms of [0, 100, 1428, 10_000, 90_000, 3_723_004]) assert.equal(parseDuration(formatDuration(ms)), ms);
});

test("the anonymous group's name is reserved", () => {
  const text = 'groups:\n  - name: anonymous\n    interfaces:\n      - name: eth0\n';
  rejects(text, 'anonymous', /reserved for the NICs in no group/);
});

test("hooks and webhooks: the issue's names, defaults (all four events, 10s; webhooks 5s, 3 retries), printed back", () => {
  const text = `hooks:
  - command: ["/usr/local/bin/on-ipmp-event", "--any-args"]
  - command: ["/usr/local/bin/cloud-move"]
    events: [address_moved]
    timeout: 30s
webhooks:
  - url: https://inventory.example/ipmp
    events: [group_state]
    retries: 5
`;
  const c = parseConfigText(text, 'ipmpd.yaml');
  assert.deepEqual(c.hooks, [
    {
      command: ['/usr/local/bin/on-ipmp-event', '--any-args'],
      events: ['address_moved', 'interface_failed', 'interface_repaired', 'group_state'],
      timeoutMs: 10_000,
    },
    { command: ['/usr/local/bin/cloud-move'], events: ['address_moved'], timeoutMs: 30_000 },
  ]);
  assert.deepEqual(c.webhooks, [
    { url: 'https://inventory.example/ipmp', events: ['group_state'], timeoutMs: 5000, retries: 5 },
  ]);
  assert.deepEqual(parseConfigText(configToYaml(c), 'b.yaml'), c);
  assert.deepEqual(parseConfigText('', 'empty.yaml').hooks, []);
});

test('hooks and webhooks: mistakes are reported where they are', () => {
  rejects('hooks:\n  - command: [/bin/true]\n    events: [address_move]\n', 'address_move', /events\.0/);
  rejects('hooks:\n  - command: []\n', '[]', /command is the program/);
  rejects('hooks:\n  - command: [/bin/true]\n    timeout: soon\n', 'soon', /not a duration/);
  rejects('hooks:\n  - command: [/bin/true]\n    shell: true\n', 'shell', /unknown key "shell"/);
  rejects('webhooks:\n  - url: ftp://x/\n', 'ftp://x/', /not an http/);
});

test('probe_method: icmp by default, arp needs no test address, printed back', () => {
  const icmp = parseConfigText(group(ifaces), 'ipmpd.yaml');
  assert.equal(icmp.groups[0]!.probeMethod, 'icmp');
  const text = group(
    `    probe_method: arp\n    interfaces:\n      - name: eth0\n      - name: eth1\n        test_address: fe80::7/64\n    data_addresses: [198.18.0.5/24]\n    probe_targets: [198.18.0.1, fe80::1]\n`,
  );
  const arp = parseConfigText(text, 'ipmpd.yaml');
  assert.equal(arp.groups[0]!.probeMethod, 'arp');
  assert.deepEqual(
    arp.groups[0]!.interfaces.map((i) => i.testAddresses.map((t) => t.address)),
    [[], ['fe80::7']],
  );
  assert.deepEqual(parseConfigText(configToYaml(arp), 'printed.yaml'), arp);
  assert.match(configToYaml(arp), /probe_method: arp/);
});

test('probe_method: mistakes are reported where they are', () => {
  rejects(group(`    probe_method: bfd\n${ifaces}`), 'bfd', /probe_method must be icmp or arp/);
  rejects(
    group(`    probe_method: arp\n${ifaces}    data_addresses: [198.18.0.5/24]\n`),
    '198.18.0.6/24',
    /test_address 198\.18\.0\.6 is not used with probe_method: arp .*remove it, or use probe_method: icmp/,
  );
  const arpIfaces = `    interfaces:\n      - name: eth0\n      - name: eth1\n`;
  rejects(
    group(`    probe_method: arp\n${arpIfaces}    data_addresses: [198.18.0.5/24]\n    probe_targets: [198.19.1.1]\n`),
    '198.19.1.1',
    /probe target 198\.19\.1\.1 is not in the subnet of any IPv4 data address of group g \(198\.18\.0\.5\/24\); ARP probes reach only hosts on the link/,
  );
  rejects(
    group(`    probe_method: arp\n${arpIfaces}    data_addresses: [2001:db8::5/64]\n    probe_targets: [198.19.1.1]\n`),
    '198.19.1.1',
    /probe_method: arp needs an IPv4 data address in group g/,
  );
  rejects(
    group(`    probe-method: arp\n${ifaces}`),
    'probe-method',
    /unknown key "probe-method" \(did you mean "probe_method"\?\)/,
  );
});
