import { useEffect, useState } from "react";

// useDebounced is value once it has stopped changing for ms: what live
// quotes and search-as-you-type follow instead of every keystroke. The
// serialized value is the dependency, so a new object with the same
// content does not restart the timer.
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  const key = JSON.stringify(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
    // The serialized value is the dependency: a new object with the same
    // content must not restart the timer.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, ms]);
  return v;
}
