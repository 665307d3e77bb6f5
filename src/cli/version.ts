import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInfo } from '../metrics/exporter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildInfo(): BuildInfo {
  let revision = process.env.IPMPD_REVISION ?? 'unknown';
  if (revision === 'unknown') {
    try {
      revision = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      // not a git checkout (e.g. the container image)
    }
  }
  return { version: packageVersion(), revision };
}
