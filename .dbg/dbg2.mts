import { startGyre, until } from '../test/helpers/gyre.ts';
import { startBackend, connectOutcome, withHeaders, subscribeOutcome, rejection } from '../test/proxy/helpers.ts';
const kind = (process.argv[2] ?? 'http') as 'http'|'grpc';
const b = await startBackend(kind);
const e = (x: string) => b.endpoint(x);
const g = await startGyre({
    client: { proxy: { connect: { enabled: true, endpoint: e('connect'), timeout: '5s', http_headers: ['X-App'] } } },
    channel: { proxy: { subscribe: { endpoint: e('subscribe') }, publish: { endpoint: e('publish'), include_connection_meta: true } },
      namespaces: [{ name: 'chat', subscribe_proxy_enabled: true, publish_proxy_enabled: true }] },
    rpc: { proxy: { endpoint: e('rpc'), include_connection_meta: true }, without_namespace: { proxy_enabled: true } },
});
const t = setTimeout(() => { console.log('TIMEOUT', g.logs.slice(-10), b.logs); process.exit(1); }, 8000);
const c = g.client({ data: { token: 'good-alice' }, websocket: withHeaders({ 'X-App': 'demo' }) });
console.log(JSON.stringify(await connectOutcome(c)));
const sub = c.newSubscription('chat:room1');
console.log(JSON.stringify(await subscribeOutcome(sub)));
const got: unknown[] = [];
sub.on('publication', (ctx) => got.push(ctx.data));
console.log('pub', await sub.publish({ text: 'hi' }));
await until(() => got.length === 1);
console.log(got);
console.log(await c.rpc('whoami', { x: 1 }));
console.log(await rejection(c.rpc('fail', {})));
console.log('blocked', await rejection(c.publish('chat:blocked', { text: 'x' })));
const den = await subscribeOutcome(c.newSubscription('chat:secret'));
console.log('secret', JSON.stringify(den));
const rc = new Promise((r) => c.once('connecting', r));
void c.rpc('kick', {}).catch((e) => console.log('kick rejected', e));
console.log('connecting', await rc);
c.disconnect();
const banned = g.client({ data: { token: 'ban' } });
console.log('ban', JSON.stringify(await connectOutcome(banned)));
banned.disconnect();
clearTimeout(t);
c.disconnect(); await g.close(); await b.close();
