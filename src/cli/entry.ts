/** Process entry of the CLI bundle: runs main() with the real process streams. */
import { main } from './main.js';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

export function run(argv: string[] = process.argv.slice(2)): Promise<number> {
  return main(argv, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdin: readStdin,
    env: process.env,
    cwd: process.cwd(),
    bin: process.argv[1],
  });
}
