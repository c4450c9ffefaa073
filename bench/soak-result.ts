/** Where `npm run soak` leaves its last complete result, and how BENCHMARKS.md shows it. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOAK_RESULT_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'soak.txt');

/** The "Soak" section of BENCHMARKS.md: the last soak run (when there is one). */
export function soakSection(): string[] {
  if (!existsSync(SOAK_RESULT_FILE)) return [];
  const [when = '', result = ''] = readFileSync(SOAK_RESULT_FILE, 'utf8').split('\n');
  return [
    '## Soak',
    '',
    'Slow readers (half with permessage-deflate), error floods, connection churn and a steady publisher',
    'against one server for minutes, printing its RSS and event-loop delay over time (`bench/soak.ts`; not',
    'a test). A slow reader never reads again before the server gives up on it, so it sees its socket',
    'destroyed (1006) rather than the close frame. Last run: ' + when + '.',
    '',
    `- ${result}`,
    '',
  ];
}
