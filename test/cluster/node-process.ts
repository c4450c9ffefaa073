/**
 * A Gyre node in its own process for the multi-process cluster test: like `gyre serve`, plus node
 * registry timings (short ones keep the test fast). Usage:
 * `node --import tsx node-process.ts '<config JSON, file form>' '<cluster options JSON>'`.
 * Prints `{"port": N, "id": "..."}` on stdout once listening; SIGTERM shuts down gracefully.
 */
import { pino } from 'pino';
import { validateConfig } from '../../src/config/validate.js';
import { GyreServer } from '../../src/server.js';

const { config } = validateConfig(JSON.parse(process.argv[2] ?? '{}'));
const server = new GyreServer({
  config,
  log: pino({ level: 'warn' }, pino.destination(2)),
  cluster: JSON.parse(process.argv[3] ?? '{}') as Record<string, number>,
});
const port = await server.listen(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ port, id: server.node.id }) + '\n');
process.on('SIGTERM', () => {
  void server.shutdown().then(() => process.exit(0));
});
