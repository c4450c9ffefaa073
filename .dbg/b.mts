import { startGyre } from '../test/helpers/gyre.ts';
import { GrpcApiClient } from '../src/api/client/grpc.ts';
const g = await startGyre({ grpc_api: { enabled: true, address: '127.0.0.1', port: 0 } });
const api = new GrpcApiClient({ address: `127.0.0.1:${g.server.grpcApiPort}` });
console.log(JSON.stringify(await api.call('batch', { commands: [{ publish: { channel: 'a', data: 1 } }, { info: {} }] })));
console.log(JSON.stringify(await g.server.api.execute('batch', { commands: [{ publish: { channel: 'a', data: 1 } }, { info: {} }] })));
await api.close(); await g.close();
