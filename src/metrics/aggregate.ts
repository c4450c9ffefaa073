/**
 * One `/metrics` answer for all the workers of `gyre serve --workers`: the primary gathers every
 * worker's metrics (prom-client's JSON form, over the supervisor's IPC messages) and combines them
 * here, with prom-client's aggregation: each metric as its `aggregator` says (counters and most
 * gauges summed; `centrifugo_node_num_nodes` and `centrifugo_node_build` the largest; Node's
 * process metrics as prom-client declares them). Summaries are combined by hand: `_sum` and
 * `_count` summed, each quantile the largest of the workers' (an upper bound of the quantile of
 * all their observations; quantiles cannot be merged exactly).
 *
 * prom-client's own cluster support (AggregatorRegistry's listeners) is not used: it would talk
 * over node:cluster's IPC channel with messages of its own, beside the engine's and the
 * supervisor's.
 */
import { AggregatorRegistry, Registry } from 'prom-client';

/** A metric in prom-client's JSON form, as it arrives over IPC (NaN values arrive as null). */
interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: ValueJson[];
}

interface ValueJson {
  value: number | null;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** The text format of the workers' metrics combined; `perWorker`: each worker's `PrometheusExporter.json()`. */
export function aggregateMetrics(perWorker: readonly unknown[][]): Promise<string> {
  const plain: MetricJson[][] = [];
  const summaries = new Map<string, MetricJson[]>();
  for (const metrics of perWorker) {
    const rest: MetricJson[] = [];
    for (const m of metrics as MetricJson[]) {
      if (m.type !== 'summary') {
        rest.push(m);
        continue;
      }
      let list = summaries.get(m.name);
      if (list === undefined) summaries.set(m.name, (list = []));
      list.push(m);
    }
    plain.push(rest);
  }
  // Summaries combined here come in as one more "worker" whose metrics are taken as they are.
  const combined = [...summaries.values()].map(combineSummary);
  const registry = AggregatorRegistry.aggregate([...plain, combined]) as Registry;
  return registry.metrics();
}

function combineSummary(metrics: MetricJson[]): MetricJson {
  const byKey = new Map<string, ValueJson>();
  for (const m of metrics) {
    for (const v of m.values) {
      const key = `${v.metricName ?? m.name}\u0000${labelKey(v.labels)}`;
      const value = v.value ?? Number.NaN;
      const seen = byKey.get(key);
      if (seen === undefined) {
        byKey.set(key, { ...v, value });
      } else if (v.labels['quantile'] !== undefined) {
        seen.value = Math.max(seen.value ?? Number.NaN, value);
      } else {
        seen.value = (seen.value ?? 0) + value;
      }
    }
  }
  const first = metrics[0]!;
  return { name: first.name, help: first.help, type: first.type, aggregator: 'first', values: [...byKey.values()] };
}

function labelKey(labels: Record<string, string | number>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
