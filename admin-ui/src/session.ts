/** The admin client of the logged-in session, given to every screen through a context. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AdminClient } from './api';

export const SessionContext = createContext<AdminClient | null>(null);

/** The session's admin client (only inside the logged-in app). */
export function useAdmin(): AdminClient {
  const client = useContext(SessionContext);
  if (client === null) throw new Error('useAdmin() outside of a session');
  return client;
}
