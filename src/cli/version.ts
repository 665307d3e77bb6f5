import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInfo } from '../metrics/exporter.js';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '../../..');

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function git(...args: string[]): string | undefined {
  try {
    return (
      execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined; // not a git checkout (e.g. the container image or the Debian package)
  }
}

export function buildInfo(): BuildInfo {
  return {
    version: packageVersion(),
    revision: process.env.IPMPD_REVISION ?? git('rev-parse', '--short', 'HEAD') ?? 'unknown',
  };
}

/** `ipmpd --version`, laid out as Prometheus and its exporters print it. */
export function versionText(): string {
  const { version, revision } = buildInfo();
  const branch = process.env.IPMPD_BRANCH ?? git('rev-parse', '--abbrev-ref', 'HEAD') ?? 'unknown';
  // the compiled file's time is when `npm run build` made it
  const built =
    process.env.IPMPD_BUILD_DATE ??
    statSync(here)
      .mtime.toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return [
    `ipmpd, version ${version} (branch: ${branch}, revision: ${revision})`,
    `  build date:       ${built}`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${arch}`,
    '',
  ].join('\n');
}
