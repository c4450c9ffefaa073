/**
 * Gyre's .proto files (proto/ at the package root, shipped with the package) loaded into gRPC
 * service definitions. gRPC is loaded on first use only: a node that neither serves nor calls gRPC
 * never pays for it.
 */
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';

/** The directory of Gyre's .proto files (the same relative place from src/ and from dist/). */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/** Options of every load: field names as in the .proto (snake_case, as in JSON), 64-bit ints as numbers. */
const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: false } as const;


/** A loaded service: its client constructor and its definition (for a server). */
export interface LoadedService {
  grpc: typeof grpc;
  Client: grpc.ServiceClientConstructor;
  service: grpc.ServiceDefinition;
}

const cache = new Map<string, Promise<LoadedService>>();

async function load(file: string, pkg: readonly string[], serviceName: string): Promise<LoadedService> {
  const [grpcModule, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  const definition = await loader.load(file, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  let node: unknown = grpcModule.loadPackageDefinition(definition);
  for (const part of [...pkg, serviceName]) node = (node as Record<string, unknown>)[part];
  const Client = node as grpc.ServiceClientConstructor;
  return { grpc: grpcModule, Client, service: Client.service };
}

function cached(file: string, pkg: readonly string[], serviceName: string): Promise<LoadedService> {
  let p = cache.get(file);
  if (p === undefined) {
    p = load(file, pkg, serviceName);
    p.catch(() => cache.delete(file));
    cache.set(file, p);
  }
  return p;
}

/** `centrifugal.centrifugo.api.CentrifugoApi` (proto/api.proto). */
export function loadApiService(): Promise<LoadedService> {
  return cached('api.proto', ['centrifugal', 'centrifugo', 'api'], 'CentrifugoApi');
}

/** `centrifugal.centrifugo.proxy.CentrifugoProxy` (proto/proxy.proto). */
export function loadProxyService(): Promise<LoadedService> {
  return cached('proxy.proto', ['centrifugal', 'centrifugo', 'proxy'], 'CentrifugoProxy');
}

/** `centrifugal.centrifugo.unistream.CentrifugoUniStream` (proto/unistream.proto): the `uni_grpc` transport. */
export function loadUniStreamService(): Promise<LoadedService> {
  return cached('unistream.proto', ['centrifugal', 'centrifugo', 'unistream'], 'CentrifugoUniStream');
}

/** Stops a gRPC server: calls in flight may finish within `graceMs`, then the rest are cancelled. */
export function shutdownGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
