import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  data: T | null;
  /** The key the data was loaded for: a different key than asked means it is the previous view's. */
  dataKey: string | null;
  error: unknown;
  loading: boolean;
  /** When the data last arrived (or was confirmed unchanged by a 304). */
  updatedAt: Date | null;
  reload: () => Promise<void>;
}

/**
 * Load once, then again every `everyMs` while the tab is visible (and at once when it comes back).
 * The API answers an unchanged resource with 304 (ETag), and the client then returns the very
 * object it had, so a poll that finds nothing new does not re-render the screen.
 *
 * `key` names what is loaded: when it changes, loading starts over (`loading` is true again while
 * the previous data stays on screen).
 */
export function usePoll<T>(load: () => Promise<T>, key: string, everyMs = 30_000): Polled<T> {
  const [loaded, setLoaded] = useState<{ data: T | null; key: string | null }>({ data: null, key: null });
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const run = useCallback(async (gen: number, forKey: string) => {
    try {
      const next = await loadRef.current();
      if (gen !== generation.current) return; // a newer key took over
      setLoaded({ data: next, key: forKey });
      setError(null);
      setUpdatedAt(new Date());
    } catch (e) {
      if (gen !== generation.current) return;
      setError(e);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    // The previous key's data stays on screen, marked as updating, until the new data arrives
    // (a new range or channel should not blank the page); a different brand remounts the screen.
    const gen = ++generation.current;
    setLoading(true);
    void run(gen, key);
    if (everyMs <= 0) return;
    const tick = () => {
      if (document.visibilityState === "visible") void run(gen, key);
    };
    const timer = window.setInterval(tick, everyMs);
    const onVisible = () => {
      if (document.visibilityState === "visible") void run(gen, key);
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [key, everyMs, run]);

  const keyRef = useRef(key);
  keyRef.current = key;
  const reload = useCallback(() => run(generation.current, keyRef.current), [run]);
  return { data: loaded.data, dataKey: loaded.key, error, loading, updatedAt, reload };
}
