/**
 * The one answer a request gets: a response, an error, or a disconnect. Shared by a request and the
 * copies interceptors make of it (`withAttribute`), so the first answer wins wherever it comes from.
 */
import type { Disconnect, ProtocolError } from '../protocol/codes.js';

export type Outcome<R> =
  | { kind: 'respond'; response: R }
  | { kind: 'error'; error: ProtocolError }
  | { kind: 'disconnect'; disconnect: Disconnect };

export class AnswerSlot<R> {
  private outcome: Outcome<R> | undefined;
  private resolve!: (o: Outcome<R>) => void;
  /** Resolves with the first answer. */
  readonly answered: Promise<Outcome<R>>;

  constructor(private readonly onSecondAnswer: (first: Outcome<R>, second: Outcome<R>) => void) {
    this.answered = new Promise((r) => (this.resolve = r));
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  /** Sets the answer; a second one is ignored and reported. */
  set(o: Outcome<R>): void {
    if (this.outcome !== undefined) {
      this.onSecondAnswer(this.outcome, o);
      return;
    }
    this.outcome = o;
    this.resolve(o);
  }
}
