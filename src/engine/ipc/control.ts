/**
 * A worker's control bus when the primary hosts the embedded engine: the primary relays each
 * message to every other worker, or to the one running the addressed node.
 */
import type { ControlBus } from '../types.js';
import type { EngineLink } from './link.js';

export class IpcControlBus implements ControlBus {
  constructor(private readonly link: EngineLink) {}

  async run(nodeId: string, onMessage: (message: string) => void): Promise<void> {
    this.link.control = { onControl: onMessage };
    await this.link.request({ op: 'controlRun', node: nodeId }, nodeId.length);
  }

  async publish(message: string): Promise<void> {
    this.link.sendControl(message);
  }

  async publishTo(nodeId: string, message: string): Promise<void> {
    this.link.sendControl(message, nodeId);
  }

  async close(): Promise<void> {
    this.link.control = undefined;
  }
}
