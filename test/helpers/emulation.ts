/**
 * The real `centrifuge` SDK over its emulation transports in Node (HTTP-streaming with fetch and
 * ReadableStream, SSE with the `eventsource` package), JSON or protobuf (`centrifuge/build/protobuf`),
 * for the tests: its requests to the emulation endpoint are counted (pongs apart) with their
 * statuses, its stream requests carry an `x-test-client` header (so a test can find them on the
 * server) and wait behind a {@link Gate} (so a test can hold a reconnect).
 */
import { Centrifuge as JsonCentrifuge, type Options } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import { EventSource, type EventSourceInit } from 'eventsource';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One way of reaching Gyre: a transport and a protocol. */
export interface EmulationVariant {
  readonly label: string;
  readonly transport: 'http_stream' | 'sse';
  readonly protobuf: boolean;
}

export const EMULATION_VARIANTS: readonly EmulationVariant[] = [
  { label: 'http_stream (JSON)', transport: 'http_stream', protobuf: false },
  { label: 'http_stream (protobuf)', transport: 'http_stream', protobuf: true },
  { label: 'sse (JSON)', transport: 'sse', protobuf: false },
];

/** The default paths. */
export const EMULATION_PATHS = { http_stream: '/connection/http_stream', sse: '/connection/sse', emulation: '/emulation' } as const;

/** Holds the SDK's stream requests (new connections) while held; commands to the emulation endpoint pass. */
export class Gate {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
  }

  wait(): Promise<void> {
    return this.held ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
}

/** What one SDK client sent to the emulation endpoint: requests, the pongs among them, the statuses. */
export interface EmulationTraffic {
  requests: number;
  pongs: number;
  statuses: number[];
}

/** True when an emulation request body carries a pong: an empty command (`{}`, or a delimited empty Command). */
export function isPong(body: unknown): boolean {
  if (typeof body === 'string') return (JSON.parse(body) as { data?: string }).data === '{}';
  if (body instanceof Uint8Array) {
    // EmulationRequest: node 1, session 2, data 3 = [0x00] (length 0), encoded last: 0x1a 0x01 0x00.
    const n = body.length;
    return n >= 3 && body[n - 3] === 0x1a && body[n - 2] === 0x01 && body[n - 1] === 0x00;
  }
  return false;
}

export interface EmulationClient {
  /** The SDK client (the protobuf build has the same API; its payloads are bytes). */
  c: JsonCentrifuge;
  gate: Gate;
  traffic: EmulationTraffic;
  /** The value of the `x-test-client` header of its stream requests. */
  tag: string;
}

let tags = 0;

/**
 * An SDK client (not connected) of `variant`: its stream at `streamBase` (e.g. `http://127.0.0.1:PORT`),
 * its commands posted to `emulationBase` (the same server by default, or another node).
 */
export function emulationClient(variant: EmulationVariant, streamBase: string, opts: Partial<Options> = {}, emulationBase = streamBase): EmulationClient {
  const gate = new Gate();
  const tag = `c${++tags}`;
  const traffic: EmulationTraffic = { requests: 0, pongs: 0, statuses: [] };
  const counted = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (new URL(url).pathname === EMULATION_PATHS.emulation) {
      traffic.requests++;
      if (isPong(init?.body)) traffic.pongs++;
      const res = await fetch(input, init);
      traffic.statuses.push(res.status);
      return res;
    }
    await gate.wait();
    const headers = new Headers(init?.headers);
    headers.set('x-test-client', tag);
    return fetch(input, { ...init, headers });
  };
  // The SDK creates its EventSource with no options: this one fetches through the gate.
  class GatedEventSource extends EventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, { ...init, fetch: counted });
    }
  }
  const Ctor = (variant.protobuf ? ProtobufCentrifuge : JsonCentrifuge) as unknown as typeof JsonCentrifuge;
  const c = new Ctor([{ transport: variant.transport, endpoint: `${streamBase}${EMULATION_PATHS[variant.transport]}` }], {
    fetch: counted,
    readableStream: ReadableStream,
    eventsource: GatedEventSource,
    emulationEndpoint: `${emulationBase}${EMULATION_PATHS.emulation}`,
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
    ...opts,
  });
  return { c, gate, traffic, tag };
}

/** A JSON value as the variant's SDK publishes it (protobuf: the JSON text's bytes). */
export function payloadFor(variant: EmulationVariant, value: unknown): unknown {
  return variant.protobuf ? enc.encode(JSON.stringify(value)) : value;
}

/** A publication's (or reply's) data as a JSON value. */
export function valueFrom(variant: EmulationVariant, data: unknown): unknown {
  return variant.protobuf ? JSON.parse(dec.decode(data as Uint8Array)) : data;
}
