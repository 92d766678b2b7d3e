import { type FormEvent, useId, useState } from "react";
import { ErrorState } from "../components/States";
import { firebaseIdToken } from "../lib/firebaseAuth";

/**
 * An e-mail and password form that gets a Firebase ID token and hands it to ``use`` (signing in, or
 * accepting an invitation). The password goes to Firebase Auth only; neither it nor the token is kept.
 */
export function EmailSignIn({
  title,
  submitLabel,
  allowCreate,
  use,
}: {
  title: string;
  submitLabel: string;
  allowCreate: boolean;
  use: (idToken: string) => Promise<void>;
}) {
  const id = useId();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [create, setCreate] = useState(allowCreate);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await use(await firebaseIdToken(email, password, create));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div className="field">
        <label htmlFor={`${id}-email`}>E-mail</label>
        <input
          id={`${id}-email`}
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete={create ? "new-password" : "current-password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </div>
      {allowCreate ? (
        <label className="small">
          <input type="checkbox" checked={create} onChange={(e) => setCreate(e.target.checked)} /> I have no account yet:
          create it with this password
        </label>
      ) : null}
      {error ? <ErrorState error={error} title="Not signed in" /> : null}
      <button type="submit" className="button button-primary" disabled={busy || !email.trim() || !password}>
        {busy ? "Signing in…" : submitLabel}
      </button>
    </form>
  );
}
