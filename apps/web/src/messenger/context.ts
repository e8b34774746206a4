/** The messenger store for the signed-in person, and a hook that re-renders on every change. */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { MessengerStore } from './store.ts';

export const StoreContext = createContext<MessengerStore | null>(null);

export function useStore(): MessengerStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside the messenger');
  useSyncExternalStore(store.subscribe, store.getVersion);
  return store;
}

/** The store without re-rendering on its changes: for components whose props carry what they show. */
export function useStoreRef(): MessengerStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStoreRef outside the messenger');
  return store;
}
