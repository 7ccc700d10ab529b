// Runs the nexaguard binary in its streaming (standard input) mode.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** NEXAGUARD_BIN, else target/release/nexaguard, else target/debug/nexaguard. */
export function findBinary() {
  const fromEnv = process.env.NEXAGUARD_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`NEXAGUARD_BIN=${fromEnv}: no such file`);
    return fromEnv;
  }
  for (const profile of ['release', 'debug']) {
    const candidate = path.join(REPO, 'target', profile, 'nexaguard');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    'the nexaguard binary is not built: run `cargo build --release -p nexaguard-cli` '
      + '(or set NEXAGUARD_BIN to the binary) before this test',
  );
}

/**
 * Feeds `lines` to `nexaguard <args>` on standard input, one per line, and
 * returns its exit status and output lines (exactly one per input line).
 */
export function runLines(bin, args, lines) {
  const result = spawnSync(bin, args, {
    input: lines.map((l) => `${l}\n`).join(''),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (result.error) throw result.error;
  const out = result.stdout.split('\n');
  if (out.at(-1) === '') out.pop();
  if (out.length !== lines.length) {
    throw new Error(
      `nexaguard ${args.join(' ')} answered ${out.length} lines for ${lines.length} `
        + `(exit ${result.status}); stderr: ${result.stderr.slice(0, 2000)}`,
    );
  }
  return { status: result.status, lines: out, stderr: result.stderr };
}
