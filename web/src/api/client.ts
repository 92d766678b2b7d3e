// The page's only way to the API: same origin, JSON, the key in an Authorization header held in
// memory (never in the URL, never in localStorage), ETag revalidation on every GET.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;

  constructor(status: number, code: string, message: string, body: unknown = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }

  /** The route itself does not exist on this server (an older API), as opposed to an unknown brand. */
  get missingRoute(): boolean {
    return this.status === 404 && this.code === "not_found";
  }
}

export type Params = Record<string, string | number | boolean | null | undefined>;

type Fetch = typeof fetch;

interface Cached {
  etag: string;
  body: unknown;
}

/** The cookie the API sets beside its HttpOnly session cookie, readable by the page (it holds no secret). */
export const SESSION_MARKER = "tower_signed_in";

export function withQuery(path: string, params?: Params): string {
  if (!params) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function readError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: a proxy's page, or a dropped connection
  }
  const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiError(
    res.status,
    err?.code ?? `http_${res.status}`,
    err?.message ?? `The server answered ${res.status} ${res.statusText}`.trim(),
    body,
  );
}

export class ApiClient {
  private key: string | null = null;
  private cookieSession = false;
  /** The session's CSRF token (POST and GET /api/session answer it): sent as X-CSRF-Token on POSTs. */
  private csrf: string | null = null;
  private readonly cache = new Map<string, Cached>();
  private readonly missing = new Set<string>();
  private readonly fetchImpl: Fetch;
  /** Called when the API says the key is no longer valid (401), so the page can ask again. */
  onUnauthorized: (() => void) | null = null;

  constructor(fetchImpl?: Fetch) {
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  get signedIn(): boolean {
    return this.key !== null || this.cookieSession;
  }

  /**
   * Sign in with an API key: checked against the API, then kept for this tab only. When the API
   * offers a session (POST /api/session sets an HttpOnly cookie) the key is handed over and dropped
   * from memory; otherwise it stays in this object until the tab closes or the user signs out.
   */
  async signIn(apiKey: string): Promise<void> {
    const key = apiKey.trim();
    if (!key) throw new ApiError(400, "empty_key", "Paste your API key first.");
    const session = await this.fetchImpl("/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ api_key: key }),
      credentials: "same-origin",
    });
    if (session.ok) {
      this.key = null;
      this.cookieSession = true;
      this.csrf = ((await session.json().catch(() => null)) as { csrf_token?: string } | null)?.csrf_token ?? null;
      return;
    }
    if (session.status !== 404 && session.status !== 405) throw await readError(session);
    // This API has no sessions: check the key on the cheapest read, then keep it in memory.
    this.key = key;
    try {
      await this.get("/api/agency/overview");
    } catch (e) {
      this.key = null;
      throw e;
    }
  }

  /** Resume a cookie session after a reload, when the API left its marker cookie. */
  async resume(): Promise<boolean> {
    if (typeof document === "undefined" || !document.cookie.split(/;\s*/).some((c) => c.startsWith(`${SESSION_MARKER}=`))) {
      return false;
    }
    return this.adoptSession();
  }

  /**
   * Take up a session the server started itself (the Shopify install signs the store's owner in and
   * redirects to the onboarding wizard): GET /api/session answers who it is and its CSRF token.
   */
  async adoptSession(): Promise<boolean> {
    if (this.key) return true;
    let res: Response;
    try {
      res = await this.fetchImpl("/api/session", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    } catch {
      return false;
    }
    if (!res.ok) return false;
    const body = (await res.json().catch(() => null)) as { csrf_token?: string } | null;
    this.cookieSession = true;
    this.csrf = body?.csrf_token || null;
    return true;
  }

  async signOut(): Promise<void> {
    const hadCookie = this.cookieSession;
    const csrf = this.csrf;
    this.key = null;
    this.cookieSession = false;
    this.csrf = null;
    this.cache.clear();
    if (hadCookie) {
      await this.fetchImpl("/api/session", {
        method: "DELETE",
        credentials: "same-origin",
        headers: csrf ? { "X-CSRF-Token": csrf } : {},
      }).catch(() => undefined);
    }
  }

  private headers(extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { Accept: "application/json", ...extra };
    if (this.key) h.Authorization = `Bearer ${this.key}`;
    else if (this.csrf) h["X-CSRF-Token"] = this.csrf;
    return h;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, { credentials: "same-origin", ...init });
    } catch {
      throw new ApiError(0, "network", "Could not reach Control Tower. Check your connection and try again.");
    }
    if (res.status === 401 && this.signedIn) {
      this.key = null;
      this.cookieSession = false;
      this.onUnauthorized?.();
    }
    return res;
  }

  /**
   * GET a JSON resource. A cached copy is revalidated with If-None-Match; a 304 returns the cached
   * body itself (the same object), so a poll that finds nothing new re-renders nothing.
   */
  async get<T>(path: string, params?: Params): Promise<T> {
    const url = withQuery(path, params);
    const cached = this.cache.get(url);
    const res = await this.send(url, {
      method: "GET",
      headers: this.headers(cached ? { "If-None-Match": cached.etag } : undefined),
    });
    if (res.status === 304 && cached) return cached.body as T;
    if (!res.ok) throw await readError(res);
    const body = (await res.json()) as T;
    const etag = res.headers.get("ETag");
    if (etag) this.cache.set(url, { etag, body });
    return body;
  }

  /**
   * GET a resource a newer API serves: null when this server has no such route (remembered, so a
   * poll does not ask again). Any other error is thrown as usual.
   */
  async getOptional<T>(path: string, params?: Params, routeKey = path): Promise<T | null> {
    if (this.missing.has(routeKey)) return null;
    try {
      return await this.get<T>(path, params);
    } catch (e) {
      if (e instanceof ApiError && e.missingRoute) {
        this.missing.add(routeKey);
        return null;
      }
      throw e;
    }
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.send(path, {
      method: "POST",
      headers: this.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw await readError(res);
    return (await res.json()) as T;
  }

  /** Forget cached copies under a path prefix (after an action changes what they show). */
  invalidate(prefix: string): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }
}

export const api = new ApiClient();
