import { QueryClient } from "@tanstack/react-query";
import { ProblemError } from "./api/problem";
import { subscribe, getTokens } from "./api/session";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // A 4xx answer will not change on a retry; a 5xx or network error may.
      retry: (count, err) => !(err instanceof ProblemError && err.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

// Signing out (or a revoked session) drops everything that belonged to
// the shopper.
subscribe(() => {
  if (!getTokens()) queryClient.removeQueries({ queryKey: ["me"] });
});
