// Signing in to Firebase Auth / Identity Platform with an e-mail and a password through its REST API
// (what the Firebase SDK does underneath, without its weight in the bundle). The API tells where:
// GET /api/auth/config names the Identity Toolkit URL (Google's, or the local emulator's) and the
// project's public Web API key. The ID token it returns goes straight to the API and is not kept.

import { ApiError } from "../api/client";

interface AuthConfig {
  project_id: string;
  identity_toolkit_url: string;
  api_key: string;
}

const MESSAGES: Record<string, string> = {
  EMAIL_NOT_FOUND: "No account has this e-mail address. Create one with the invitation you received.",
  INVALID_PASSWORD: "The password is not right.",
  INVALID_LOGIN_CREDENTIALS: "The e-mail address or the password is not right.",
  EMAIL_EXISTS: "An account already has this e-mail address: sign in instead.",
  WEAK_PASSWORD: "Choose a password of at least 6 characters.",
  USER_DISABLED: "This account is disabled.",
  TOO_MANY_ATTEMPTS_TRY_LATER: "Too many attempts: try again in a few minutes.",
};

async function config(fetchImpl: typeof fetch): Promise<AuthConfig> {
  const res = await fetchImpl("/api/auth/config", { headers: { Accept: "application/json" } });
  if (!res.ok) throw new ApiError(res.status, "no_auth_config", "Sign-in by e-mail is not available here.");
  const cfg = (await res.json()) as AuthConfig;
  if (!cfg.identity_toolkit_url) {
    throw new ApiError(503, "sign_in_not_configured", "Sign-in by e-mail is not set up on this deployment.");
  }
  return cfg;
}

/** A Firebase ID token for the e-mail and password (``create``: make the account first). */
export async function firebaseIdToken(
  email: string,
  password: string,
  create = false,
  fetchImpl: typeof fetch = (i, init) => fetch(i, init),
): Promise<string> {
  const cfg = await config(fetchImpl);
  const action = create ? "accounts:signUp" : "accounts:signInWithPassword";
  let res: Response;
  try {
    res = await fetchImpl(`${cfg.identity_toolkit_url}/${action}?key=${encodeURIComponent(cfg.api_key)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: email.trim(), password, returnSecureToken: true }),
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the sign-in service. Check your connection and try again.");
  }
  const body = (await res.json().catch(() => ({}))) as { idToken?: string; error?: { message?: string } };
  if (!res.ok || !body.idToken) {
    const code = (body.error?.message ?? "").split(" ")[0];
    throw new ApiError(res.status || 400, code || "sign_in_failed", MESSAGES[code] ?? "Signing in did not work.");
  }
  return body.idToken;
}
