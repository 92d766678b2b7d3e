import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client";
import { ErrorState } from "../components/States";
import { Link } from "../lib/router";
import { markMeaningful } from "../lib/perf";
import { EmailSignIn } from "./EmailSignIn";

/**
 * Sign in with an API key, or with an e-mail and password (Firebase Auth: an invited agency member, or a
 * brand's invited owner or viewer; a merchant with one brand then lands on its dashboard).
 * The key goes to the API in a request body, never into the URL; the API answers with an HttpOnly
 * session cookie, so the page keeps neither the key nor a token (against an API without sessions the
 * key stays in memory only and a reload asks again).
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
            The key is never put in a link or saved in the browser: it opens a session the browser keeps out of reach of
            scripts, until you sign out.
          </p>
          {error ? <ErrorState error={error} title="Not signed in" /> : null}
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </form>
        <details className="signin-email">
          <summary>Sign in with your e-mail instead</summary>
          <EmailSignIn
            title="E-mail sign-in"
            submitLabel="Sign in with e-mail"
            allowCreate={false}
            use={async (idToken) => {
              await api.signInWithIdToken(idToken);
              onSignedIn();
            }}
          />
        </details>
        <p className="small">
          New here? Read <Link to="/help/getting-started">Getting started</Link>.
        </p>
      </div>
    </main>
  );
}
