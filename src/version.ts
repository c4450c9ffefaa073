/** Gyre's version, reported in connect replies and `/api/info`. */
export const VERSION = '0.1.0';
