/**
 * `client.connection_rate_limit`: at most `perSecond` new connections in each second (0 = no
 * limit), counted over every transport of a node (one instance, shared).
 */
export class ConnectionRateLimit {
  private second = 0;
  private count = 0;

  constructor(private readonly perSecond: number) {}

  /** Takes one connection from this second's budget; false when it is spent. */
  take(): boolean {
    if (this.perSecond <= 0) return true;
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.count = 0;
    }
    return ++this.count <= this.perSecond;
  }
}
