// Files and directories named on the command line, checked before use so
// that a typo gets "what, where and why" instead of a raw Node error
// ("ENOENT: no such file or directory, scandir ...").

import { accessSync, constants, statSync } from 'node:fs';
import { errnoText } from '../admin/socketFile.js';

export function checkReadable(what: string, path: string, kind: 'file' | 'directory'): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${what} ${path}: no such ${kind} (ENOENT)`);
    if (code === 'ENOTDIR') throw new Error(`${what} ${path}: a part of the path is not a directory (ENOTDIR)`);
    throw new Error(`${what} ${path}: cannot look at it: ${errnoText(err)}`);
  }
  if (kind === 'file' && isDirectory) throw new Error(`${what} ${path}: is a directory, not a file`);
  if (kind === 'directory' && !isDirectory) throw new Error(`${what} ${path}: is not a directory`);
  try {
    accessSync(path, kind === 'directory' ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (err) {
    throw new Error(`${what} ${path}: cannot read it: ${errnoText(err)}`);
  }
}
