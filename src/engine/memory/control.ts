import type { ControlBus } from '../types.js';

/** The control bus of a single node (memory engine): nothing to talk to. */
export class NoopControlBus implements ControlBus {
  async run(): Promise<void> {}
  async publish(): Promise<void> {}
  async publishTo(): Promise<void> {}
  async close(): Promise<void> {}
}
