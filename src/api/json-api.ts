/**
 * The server API for callers that speak JSON: the HTTP API (a parsed body) and the gRPC API (a
 * message with its payloads turned into JSON values). A method named by a string and its untyped
 * params are decoded into the typed request (`decode.ts`) and run by the {@link ServerApi}.
 */
import { asParams } from './params.js';
import { decode, decodeBatch, decodeCommand, isBatchMethod } from './decode.js';
import type { ServerApi } from './server-api.js';
import { isApiMethod, type ApiBatchCommand, type ApiBatchReply, type ApiMethod, type ApiResults } from './types.js';
import { Errors, ProtocolException } from '../protocol/codes.js';

export class JsonApi {
  constructor(
    readonly api: ServerApi,
    /** The edge calling, as the metrics label it: `http` or `grpc`. */
    private readonly protocol: 'http' | 'grpc',
  ) {}

  /** True when `method` is a server API method. */
  has(method: string): method is ApiMethod {
    return isApiMethod(method);
  }

  /**
   * Runs `method` with untyped `params`: 104 for an unknown method, 107 for params that are not an
   * object or hold a field of the wrong type, else whatever the method answers.
   */
  execute(method: string, params: unknown): Promise<ApiResults[ApiMethod]> {
    // Only known methods are timed: a method name is the caller's input (no label for any string).
    return this.api.metrics.enabled && this.has(method) ? this.timed(method, params) : this.run(method, params);
  }

  /** {@link execute}, timed and its failures counted (`centrifugo_api_command_*`). */
  private async timed(method: ApiMethod, params: unknown): Promise<ApiResults[ApiMethod]> {
    const series = this.api.metrics.api(this.protocol, method);
    const started = performance.now();
    try {
      return await this.run(method, params);
    } catch (e) {
      const code = e instanceof ProtocolException ? e.error.code : Errors.internal.code;
      series.errors.set(code, (series.errors.get(code) ?? 0) + 1);
      throw e;
    } finally {
      series.durations.add((performance.now() - started) / 1000);
    }
  }

  private async run(method: string, params: unknown): Promise<ApiResults[ApiMethod]> {
    if (method === 'batch') {
      const { commands, parallel } = decodeBatch(params);
      return this.api.runBatch(commands, parallel, (c) => this.command(c));
    }
    if (!isBatchMethod(method)) throw new ProtocolException(Errors.methodNotFound);
    return this.api.execute(method, decode(method, params));
  }

  /**
   * One command of a batch: bad params are its own error 107 (the other commands still run); a
   * command that is not an object fails the whole batch.
   */
  private async command(raw: unknown): Promise<ApiBatchReply> {
    const c = asParams(raw);
    let command: ApiBatchCommand;
    try {
      command = decodeCommand(c);
    } catch (e) {
      return { error: this.api.errorOf(e) };
    }
    return this.api.command(command);
  }
}
