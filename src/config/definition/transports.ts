/**
 * Definition of the unidirectional transports (`uni_websocket`, `uni_http_stream`, `uni_sse`, `uni_grpc`):
 * push-only connections that send one connect request and then only receive; and of the
 * bidirectional emulation transports of the JavaScript SDK (`http_stream`, `sse`) with their
 * `emulation` endpoint.
 */
import { bool, duration, int, objectList, port, section, str } from '../keys.js';
import { TLS_SERVER_UNTYPED } from './tls.js';

/** `connect_code_to_http_response` of the HTTP uni transports. */
const connectCodeToHttpResponse = section(
  {
    enabled: bool(false, 'Answer a refused connect with an HTTP status (from transforms; else 500) instead of a disconnect push on a 200 stream.'),
    transforms: objectList(
      section(
        {
          code: int(0, 'The error or disconnect code the connect was refused with (e.g. 3500, 109, or an application code).'),
          to: section(
            {
              status_code: int(0, 'The HTTP status to answer with (100-599).'),
              body: str('', 'The response body; "" = the error message or disconnect reason.'),
            },
            'The HTTP response.',
          ),
        },
        'One code and its HTTP response.',
      ),
      'Codes of refused connects and the HTTP responses that answer them.',
    ),
  },
  'Answering refused connects with HTTP statuses.',
);

/** `uni_websocket`. */
export const uniWebsocket = section(
  {
    enabled: bool(false, 'Serve unidirectional WebSocket connections.'),
    handler_prefix: str('/connection/uni_websocket', 'Path of unidirectional WebSocket connections.'),
    compression: bool(false, 'Offer permessage-deflate compression.'),
    message_size_limit: int(65_536, 'Largest incoming message (the connect request) in bytes; 0 = 65536.'),
    write_timeout: duration('1s', 'How long a write to a slow client may take before it is disconnected (3009); 0 = no limit.'),
    join_push_messages: bool(false, 'Join the pushes queued within one event-loop turn into one text frame, separated by "\\n".'),
    disable_closing_handshake: bool(false, 'Close the TCP connection without a WebSocket close frame (Centrifugo before v6.5.1).'),
    disable_disconnect_push: bool(false, 'Do not send the disconnect push before closing: the code and reason are in the close frame only.'),
  },
  'The unidirectional WebSocket transport.',
  {
    untyped: [
      'compression_min_size',
      'compression_level',
      'read_buffer_size',
      'use_write_buffer_pool',
      'write_buffer_size',
      'decompressed_message_size_limit',
    ],
  },
);

/** `uni_http_stream`. */
export const uniHttpStream = section(
  {
    enabled: bool(false, 'Serve unidirectional HTTP-streaming connections.'),
    handler_prefix: str('/connection/uni_http_stream', 'Path of unidirectional HTTP-streaming connections (POST).'),
    max_request_body_size: int(65_536, 'Largest connect request body in bytes (larger: 413); 0 = 65536.'),
    connect_code_to_http_response: connectCodeToHttpResponse,
  },
  'The unidirectional HTTP-streaming transport.',
);

/** `uni_sse`. */
export const uniSse = section(
  {
    enabled: bool(false, 'Serve unidirectional Server-Sent Events (EventSource) connections.'),
    handler_prefix: str('/connection/uni_sse', 'Path of unidirectional SSE connections (GET with cf_connect, or POST).'),
    max_request_body_size: int(65_536, 'Largest connect request body of a POST in bytes (larger: 413); 0 = 65536.'),
    connect_code_to_http_response: connectCodeToHttpResponse,
  },
  'The unidirectional Server-Sent Events transport.',
);

/** `http_stream`: the JS SDK's HTTP-streaming fallback (bidirectional emulation). */
export const httpStream = section(
  {
    enabled: bool(false, 'Serve HTTP-streaming connections (the JavaScript SDK\'s http_stream fallback); their commands arrive at emulation.handler_prefix.'),
    handler_prefix: str('/connection/http_stream', 'Path of HTTP-streaming connections (POST with the connect command as body).'),
    max_request_body_size: int(65_536, 'Largest connect request body in bytes (larger: 413); 0 = 65536.'),
  },
  'The bidirectional HTTP-streaming transport (emulation: replies streamed, commands posted to the emulation endpoint).',
);

/** `sse`: the JS SDK's Server-Sent Events fallback (bidirectional emulation, JSON only). */
export const sse = section(
  {
    enabled: bool(false, 'Serve SSE connections (the JavaScript SDK\'s sse fallback, EventSource); their commands arrive at emulation.handler_prefix.'),
    handler_prefix: str('/connection/sse', 'Path of SSE connections (GET with the connect command in cf_connect, or POST with it as body).'),
    max_request_body_size: int(65_536, 'Largest connect request body of a POST in bytes (larger: 413); 0 = 65536.'),
  },
  'The bidirectional Server-Sent Events transport (emulation, JSON only).',
);

/** `emulation`: where HTTP-streaming and SSE clients post their commands. */
export const emulation = section(
  {
    handler_prefix: str('/emulation', 'Path of the emulation endpoint (POST), served when http_stream or sse is enabled.'),
    max_request_body_size: int(65_536, 'Largest emulation request body in bytes (larger: 413); 0 = 65536.'),
  },
  'The endpoint of the commands of HTTP-streaming and SSE connections, addressed by session and node: any node of a cluster takes them.',
);

/** `uni_grpc`: its own gRPC server (proto/unistream.proto). */
export const uniGrpc = section(
  {
    enabled: bool(false, 'Serve the unidirectional gRPC stream (centrifugal.centrifugo.unistream.CentrifugoUniStream) on its own port.'),
    address: str('', 'Address to listen on; "" = all interfaces.'),
    port: port(11_000, 'Port of the unidirectional gRPC server.'),
    max_receive_message_size: int(0, "Largest connect request in bytes (larger: status RESOURCE_EXHAUSTED); 0 = gRPC's default (4 MiB)."),
    tls: section(
      {
        enabled: bool(false, 'Serve the unidirectional gRPC stream over TLS.'),
        cert_pem_file: str('', 'Server certificate file (PEM).'),
        key_pem_file: str('', 'Server key file (PEM).'),
      },
      'TLS of the unidirectional gRPC server.',
      { untyped: TLS_SERVER_UNTYPED },
    ),
  },
  'The unidirectional gRPC transport.',
);
