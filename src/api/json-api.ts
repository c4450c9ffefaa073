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
  constructor(readonly api: ServerApi) {}

  /** True when `method` is a server API method. */
  has(method: string): method is ApiMethod {
    return isApiMethod(method);
  }

  /**
   * Runs `method` with untyped `params`: 104 for an unknown method, 107 for params that are not an
   * object or hold a field of the wrong type, else whatever the method answers.
   */
  async execute(method: string, params: unknown): Promise<ApiResults[ApiMethod]> {
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
