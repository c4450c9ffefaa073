/**
 * The unidirectional gRPC transport (`uni_grpc`): Centrifugo's `CentrifugoUniStream.Consume`
 * (proto/unistream.proto), a server-streaming call on its own gRPC server. The client sends one
 * ConnectRequest; every push is one gRPC message holding a bare protobuf Push (`connect` first;
 * pings are empty Push messages, every `client.ping_interval`, answered by nothing). As Centrifugo:
 * a close is the `disconnect` push (none for 3000), then the end of the stream with status OK; a
 * refused connect is such a disconnect (3500 for an invalid token ...); a request that is not a
 * ConnectRequest ends the call with status INTERNAL; the server sends HTTP/2 keepalive pings every
 * 25 s and drops a peer that does not answer one within 5 s.
 *
 * Encoding: the connection speaks the unidirectional protobuf codec, whose frames hold one Push
 * preceded by its length as a varint (shared by every uni protobuf subscriber of a channel). gRPC
 * frames messages itself, so the prefix is cut off here, once per frame (a view, no copy, cached
 * per frame), and the service's serializer passes those bytes through unchanged; its deserializer
 * hands over the request's raw bytes, decoded by the same codec as every other connect request.
 *
 * Backpressure: the bytes held for a connection (written to the call but not yet taken by HTTP/2,
 * plus those waiting here while the call asks for a drain) are bounded by `client.queue_max_size`;
 * past it the connection is closed with 3008 "slow".
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { UniGrpcConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import type { Transport } from '../node/transport.js';
import { CommandDecodeError } from '../protocol/codec.js';
import { Disconnects, type Disconnect } from '../protocol/codes.js';
import type { OutFrame } from '../protocol/frame.js';
import { loadUniStreamService, shutdownGrpcServer } from '../protocol/grpc-services.js';
import { uniProtobufCodec } from '../protocol/protobuf-codec.js';
import type { ConnectCommandParams } from '../protocol/types.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { isSlowClose } from './stream-transport.js';

/** Centrifugo's keepalive of the uni gRPC server: an HTTP/2 ping every 25 s, answered within 5 s. */
const KEEPALIVE_TIME_MS = 25_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

// ---- the bare Push of a frame ----

const bareCache = new WeakMap<OutFrame, Buffer>();

/** The Push message of a uni protobuf frame, without its varint length prefix (a view, cached per frame). */
export function barePush(frame: OutFrame): Buffer {
  let bytes = bareCache.get(frame);
  if (bytes === undefined) {
    const payload = frame.payload;
    let i = 0;
    while (i < payload.length && (payload[i]! & 0x80) !== 0) i++;
    bytes = payload.subarray(i + 1);
    bareCache.set(frame, bytes);
  }
  return bytes;
}

/** Pass-through (de)serializer: the messages are bytes already. */
const raw = (b: Buffer): Buffer => b;

// ---- the transport ----

/** One `Consume` call as a unidirectional {@link Transport}. */
export class UniGrpcTransport implements Transport {
  readonly name = 'uni_grpc';
  readonly protocol = 'protobuf' as const;
  readonly unidirectional = true;
  readonly emulation = false;
  readonly pongs = false;
  /** The call's metadata (string values; `-bin` keys left out), as a connection's headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Frames waiting for the call to drain. */
  private readonly queue: OutFrame[] = [];
  private queuedBytes = 0;
  /** Bytes written to the call and not yet handed to HTTP/2. */
  private inflightBytes = 0;
  private waiting = false;
  private closing = false;
  /** The call is over (ended, cancelled by the peer, or its connection gone). */
  private gone = false;
  private readonly onDrain = (): void => this.resume();
  /** Called once when the peer cannot keep up (3008); the owner closes the connection. */
  onWriteFailure: (disconnect: Disconnect) => void = (d) => this.close(d);
  /** Called once when the call is over, whoever ended it. */
  onGone: () => void = () => {};

  constructor(
    private readonly call: grpc.ServerWritableStream<Buffer, Buffer>,
    /** `client.queue_max_size`. */
    private readonly maxQueued: number,
  ) {
    this.headers = headersOf(call.metadata);
    // grpc-js emits 'cancelled' when the call is over: after its status, or when the peer went.
    call.once('cancelled', () => {
      if (this.gone) return;
      this.gone = true;
      this.drop();
      this.onGone();
    });
  }

  send(frame: OutFrame): boolean {
    if (this.closing || this.gone) return false;
    if (this.queuedBytes + this.inflightBytes + frame.size > this.maxQueued) {
      this.drop();
      this.onWriteFailure(Disconnects.slow);
      return false;
    }
    if (this.waiting) {
      this.queue.push(frame);
      this.queuedBytes += frame.size;
    } else {
      this.write(frame);
    }
    return true;
  }

  /**
   * Ends the call: what waits here (dropped for 3008 / 3009: the peer gets the push right after
   * what the call already holds), the `disconnect` push (none for 3000), then status OK.
   */
  close(d: Disconnect): void {
    if (this.closing) return;
    this.closing = true;
    if (this.gone) return;
    if (isSlowClose(d)) this.drop();
    else while (this.queue.length > 0) this.write(this.shift());
    try {
      if (d.code !== Disconnects.connectionClosed.code) {
        this.write(uniProtobufCodec.push({ kind: 'disconnect', reason: { code: d.code, reason: d.reason } }));
      }
      this.call.end();
    } catch {
      // The call went meanwhile: its 'cancelled' event ends the connection.
    }
  }

  private write(frame: OutFrame): void {
    const size = frame.size;
    this.inflightBytes += size;
    const more = this.call.write(barePush(frame), () => {
      this.inflightBytes -= size;
    });
    if (!more && !this.waiting && !this.closing) {
      this.waiting = true;
      this.call.once('drain', this.onDrain);
    }
  }

  /** The call drained: write what waits until it asks for a drain again. */
  private resume(): void {
    this.waiting = false;
    while (this.queue.length > 0 && !this.waiting && !this.closing && !this.gone) this.write(this.shift());
  }

  private shift(): OutFrame {
    const frame = this.queue.shift()!;
    this.queuedBytes -= frame.size;
    return frame;
  }

  private drop(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.waiting) this.call.off('drain', this.onDrain);
    this.waiting = false;
  }
}

/** gRPC metadata as connection headers: lower-cased names, string values (binary `-bin` ones left out). */
function headersOf(metadata: grpc.Metadata): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(metadata.toJSON())) {
    if (name.endsWith('-bin')) continue;
    const strings = values.filter((v): v is string => typeof v === 'string');
    if (strings.length === 1) out[name] = strings[0]!;
    else if (strings.length > 1) out[name] = strings;
  }
  return out;
}

// ---- the server ----

/** The `uni_grpc` server: its own gRPC server serving `CentrifugoUniStream.Consume`. */
export class UniGrpcServer {
  private stopping = false;

  private constructor(
    private readonly server: grpc.Server,
    /** The bound port. */
    readonly port: number,
  ) {}

  /** Serves the stream for `node`; resolves once listening (gRPC loads only then). */
  static async start(node: GyreNode, config: UniGrpcConfig, rate: ConnectionRateLimit): Promise<UniGrpcServer> {
    const { grpc: g, service } = await loadUniStreamService();
    const log = node.log;
    const consume = service['Consume'];
    if (consume === undefined) throw new Error('proto/unistream.proto: CentrifugoUniStream has no Consume method');
    const definition: grpc.ServiceDefinition = { Consume: { ...consume, requestDeserialize: raw, responseSerialize: raw } };
    const options: grpc.ServerOptions = { 'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS, 'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS };
    if (config.max_receive_message_size > 0) options['grpc.max_receive_message_length'] = config.max_receive_message_size;
    const server = new g.Server(options);
    let self: UniGrpcServer | undefined;
    const handler = (call: grpc.ServerWritableStream<Buffer, Buffer>): void => {
      try {
        if (self === undefined || self.stopping) {
          call.emit('error', { code: g.status.UNAVAILABLE, details: 'shutting down' });
          return;
        }
        let params: ConnectCommandParams;
        try {
          params = uniProtobufCodec.decodeConnectRequest(call.request);
        } catch (e) {
          const reason = e instanceof CommandDecodeError ? e.reason : e instanceof Error ? e.message : String(e);
          log.info({ transport: 'uni_grpc', peer: call.getPeer(), reason }, 'malformed connect request');
          // grpc-go's answer to a request its codec cannot unmarshal (Centrifugo).
          call.emit('error', { code: g.status.INTERNAL, details: `grpc: failed to unmarshal the received message: ${reason}` });
          return;
        }
        if (!rate.take()) {
          log.info({ transport: 'uni_grpc' }, 'connection rate limit reached: call refused');
          call.emit('error', { code: g.status.UNAVAILABLE, details: 'connection rate limit reached' });
          return;
        }
        accept(node, call, params, log);
      } catch (e) {
        log.error({ err: e, transport: 'uni_grpc' }, 'unidirectional gRPC call failed');
        call.emit('error', { code: g.status.INTERNAL, details: 'internal error' });
      }
    };
    server.addService(definition, { Consume: handler });
    const tls = config.tls;
    const creds = tls.enabled
      ? g.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.cert_pem_file), private_key: readFileSync(tls.key_pem_file) }])
      : g.ServerCredentials.createInsecure();
    const host = config.address === '' ? '0.0.0.0' : config.address;
    const address = host.includes(':') ? `[${host}]:${config.port}` : `${host}:${config.port}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, creds, (err, bound) => (err !== null ? reject(err) : resolve(bound)));
    });
    log.info({ port, address: host, tls: tls.enabled }, 'unidirectional gRPC listening');
    self = new UniGrpcServer(server, port);
    return self;
  }

  /**
   * Stops accepting calls; the calls in flight (ended by the node's shutdown, each with its
   * `disconnect` push) may finish within `graceMs`, then the rest are cancelled.
   */
  close(graceMs: number): Promise<void> {
    this.stopping = true;
    return shutdownGrpcServer(this.server, graceMs);
  }
}

/** A {@link Client} on a call whose connect request was read. */
function accept(node: GyreNode, call: grpc.ServerWritableStream<Buffer, Buffer>, params: ConnectCommandParams, log: Logger): void {
  const transport = new UniGrpcTransport(call, node.config.client.queue_max_size);
  const client = new Client(node, transport);
  transport.onWriteFailure = (d) => {
    log.warn({ client: client.id, transport: transport.name, code: d.code }, 'client too slow: outgoing queue full, closing');
    client.close(d);
  };
  transport.onGone = () => client.onTransportClosed();
  node.accept(client);
  client.connectUnidirectional(params);
}
