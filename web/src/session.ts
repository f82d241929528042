import { useSyncExternalStore } from "react";
import { getTokens, subscribe } from "./api/session";

export function useSession() {
  return useSyncExternalStore(subscribe, getTokens, () => null);
}
