/** The embedded engine of a worker process: the parts live in the primary, reached over IPC. */
import type { Logger } from 'pino';
import type { EmbeddedEngine } from '../factory.js';
import { IpcBroker } from './broker.js';
import { IpcControlBus } from './control.js';
import type { EngineLink } from './link.js';
import { IpcPresenceManager } from './presence.js';

export function ipcEngine(link: EngineLink, log: Logger): EmbeddedEngine {
  return {
    broker: () => new IpcBroker(link, log.child({ component: 'engine-ipc' })),
    presence: () => new IpcPresenceManager(link),
    control: () => new IpcControlBus(link),
    name: 'memory (hosted by the primary process)',
  };
}
