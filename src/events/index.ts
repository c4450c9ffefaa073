/** The simple event protocol: public API. */
export { EventsServer, type EventsServerOptions } from './server.js';
export { EventError, EventErrorCodes, ERROR_EVENT, EventCloses } from './errors.js';
export { BROADCAST_CHANNEL, EVENTS_CHANNEL_PREFIX, userChannel } from './channels.js';
export type * from './types.js';
