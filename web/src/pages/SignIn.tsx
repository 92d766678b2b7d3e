import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client";
import { ErrorState } from "../components/States";
import { Link } from "../lib/router";
import { markMeaningful } from "../lib/perf";

/**
 * Sign in with an API key. The key goes to the API in a request body or an Authorization header,
 * never into the URL; this page keeps it in memory only (a reload asks again), unless the API
 * offers an HttpOnly session cookie, which then holds it instead.
 */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const id = useId();
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    markMeaningful("signin");
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signIn(key);
      setKey("");
      onSignedIn();
    } catch (err) {
      setError(err);
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <main id="main" className="signin" tabIndex={-1}>
      <div className="signin-panel card">
        <h1>Sign in to Control Tower</h1>
        <p>Paste the API key your agency or Control Tower gave you. It looks like <code>tower_…</code>.</p>
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-key`}>API key</label>
            <input
              ref={input}
              id={`${id}-key`}
              name="api-key"
              type="password"
              autoComplete="current-password"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-describedby={`${id}-note`}
              required
              autoFocus
            />
          </div>
          <p id={`${id}-note`} className="muted small">
            The key stays in this tab's memory and is never put in a link or saved in the browser: closing or reloading
            the tab signs you out.
          </p>
          {error ? <ErrorState error={error} title="Not signed in" /> : null}
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </form>
        <p className="small">
          New here? Read <Link to="/help/getting-started">Getting started</Link>.
        </p>
      </div>
    </main>
  );
}
