/**
 * The `grpc` driver: the `http` driver's semantics over the gRPC server API
 * (`centrifugal.centrifugo.api.CentrifugoApi`) of a Gyre or Centrifugo server. gRPC itself is
 * loaded on the first publish, so applications that never use this driver do not load it.
 */
import { GrpcApiClient, type GrpcApiClientOptions, type GrpcClientTls } from '../../api/client/grpc.js';
import type { Duration } from '../../api/client/duration.js';
import type { ServerApiClient } from '../../api/client/types.js';
import { BroadcastConfigError } from '../errors.js';
import type { DriverContext } from '../types.js';
import { ApiBroadcast, type ApiBroadcastOptions } from './api.js';

export interface GrpcBroadcastOptions extends Omit<ApiBroadcastOptions, 'clientRetries' | 'ownsClient'> {
  /** The gRPC API address, `host:port` (Centrifugo's default port is 10000). */
  address?: string;
  /** The server's `grpc_api.key` (sent as metadata `authorization: apikey <key>`). */
  apiKey?: string;
  /** Deadline of one call: ms or a duration string. Default 5 s. */
  timeout?: Duration;
  /** TLS towards the server: `true` = system roots, or CA / client certificate files. */
  tls?: GrpcClientTls;
  /** A ready client to use instead of `address` (the driver then does not close it). */
  client?: ServerApiClient;
}

export class GrpcBroadcast extends ApiBroadcast {
  constructor(options: GrpcBroadcastOptions, context?: Partial<DriverContext>) {
    const connection = context?.connection ?? context?.driver ?? 'GrpcBroadcast';
    const { address, apiKey, timeout, tls, client, ...rest } = options;
    let publishing: ServerApiClient;
    try {
      if (client !== undefined) {
        publishing = client;
      } else {
        if (typeof address !== 'string' || address === '') throw new TypeError('address is required (host:port of the gRPC API)');
        const clientOptions: GrpcApiClientOptions = {
          address,
          ...(apiKey !== undefined && { apiKey }),
          ...(timeout !== undefined && { timeout }),
          ...(tls !== undefined && { tls }),
          retries: 0, // the driver retries (whole calls and failed channels of a broadcast)
        };
        publishing = new GrpcApiClient(clientOptions);
      }
    } catch (e) {
      throw new BroadcastConfigError(`broadcast connection "${connection}": ${(e as Error).message}`, connection, context?.driver ?? 'grpc', { cause: e });
    }
    super(publishing, { ...rest, clientRetries: false, ownsClient: client === undefined }, context);
  }
}
