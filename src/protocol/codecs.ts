/** The codec of a connection, by its protocol and direction. */
import type { ProtocolCodec, ProtocolName } from './codec.js';
import { jsonCodec, uniJsonCodec } from './json-codec.js';
import { protobufCodec, uniProtobufCodec } from './protobuf-codec.js';

/** The codec for a protocol: bare pushes for unidirectional connections, replies otherwise. */
export function codecFor(protocol: ProtocolName, unidirectional: boolean): ProtocolCodec {
  if (protocol === 'json') return unidirectional ? uniJsonCodec : jsonCodec;
  return unidirectional ? uniProtobufCodec : protobufCodec;
}
