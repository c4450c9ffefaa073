/** Keys of Centrifugo's unified TLS object that Gyre does not read (accepted, with a warning). */

/** The in-memory PEM forms and client-CA keys: Gyre reads files only. */
export const TLS_PEM_UNTYPED: readonly string[] = [
  'cert_pem',
  'cert_pem_b64',
  'key_pem',
  'key_pem_b64',
  'server_ca_pem',
  'server_ca_pem_b64',
  'client_ca_pem',
  'client_ca_pem_b64',
  'client_ca_pem_file',
];

/** For a listening server: the client-side keys too. */
export const TLS_SERVER_UNTYPED: readonly string[] = [...TLS_PEM_UNTYPED, 'server_ca_pem_file', 'insecure_skip_verify', 'server_name'];
