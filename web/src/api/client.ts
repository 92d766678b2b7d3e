// The page's only way to the API: same origin, JSON, ETag revalidation on every GET. Signed in, the
// session is an HttpOnly cookie the page cannot read, and its CSRF token (sent as X-CSRF-Token on every
// POST, PUT and DELETE) is held in memory only; against an API without sessions the key is held in
// memory instead. Nothing is put in the URL or in localStorage.
// Embedded in the Shopify admin (App Bridge loaded: window.shopify.idToken exists) there is no cookie
// (a third-party frame does not send it) and no sign-in: every call asks App Bridge for a fresh session
// token and sends it as Authorization: Bearer, which the API verifies on each request.

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
/** The header a signed-in unsafe request carries: the session's CSRF token. */
export const CSRF_HEADER = "X-CSRF-Token";

/** Who is signed in, as POST/GET /api/session answer. */
export interface Principal {
  name: string;
  role: "merchant_owner" | "merchant_viewer" | "agency_admin" | "agency_member" | "operator";
  agency_id: string | null;
  brand_ids: string[];
  via: "api_key" | "sign_in";
  /** The role it acts with on each brand (a person may own one brand and view another). */
  brand_roles?: Record<string, Principal["role"]>;
}

/** A team the principal manages: a brand's people (its owners) or an agency's (its admins). */
export interface TeamRef {
  kind: "brand" | "agency";
  id: string;
}

/** The role the principal acts with on the brand: its own role there, else its role (null: not known). */
export function roleOn(principal: Principal | null, brandId: string): Principal["role"] | null {
  if (!principal) return null;
  return principal.brand_roles?.[brandId] ?? principal.role;
}

/** The teams whose members, invitations and removals the principal manages (the agency's first). */
export function managedTeams(principal: Principal | null): TeamRef[] {
  if (!principal) return [];
  const out: TeamRef[] = [];
  if (principal.role === "agency_admin" && principal.agency_id) out.push({ kind: "agency", id: principal.agency_id });
  for (const b of principal.brand_ids) {
    if (roleOn(principal, b) === "merchant_owner") out.push({ kind: "brand", id: b });
  }
  return out;
}

/** A merchant's only brand, where signing in should land them (null: an agency, the operator, or several). */
export function soleBrand(principal: Principal | null): string | null {
  if (!principal || principal.agency_id || principal.role === "operator") return null;
  return principal.brand_ids.length === 1 ? principal.brand_ids[0] : null;
}

interface SessionAnswer {
  principal: Principal;
  csrf_token: string;
}

/** App Bridge's global, inside the Shopify admin: the part the page uses. */
interface AppBridge {
  idToken: () => Promise<string>;
}

/** App Bridge when the page is embedded in the Shopify admin, else null. */
export function appBridge(): AppBridge | null {
  const bridge = (globalThis as { shopify?: Partial<AppBridge> }).shopify;
  return typeof bridge?.idToken === "function" ? (bridge as AppBridge) : null;
}

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
  private csrf: string | null = null;
  /** Who the session signs in (null with a key held in memory, or signed out). */
  principal: Principal | null = null;
  private readonly cache = new Map<string, Cached>();
  private readonly missing = new Set<string>();
  private readonly fetchImpl: Fetch;
  /** Called when the API says the key is no longer valid (401), so the page can ask again. */
  onUnauthorized: (() => void) | null = null;

  constructor(fetchImpl?: Fetch) {
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  get signedIn(): boolean {
    return this.key !== null || this.cookieSession || appBridge() !== null;
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
      this.adopt((await session.json()) as SessionAnswer);
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

  /** Sign in with a Firebase ID token (an e-mail sign-in): the API opens a session for its member. */
  async signInWithIdToken(idToken: string): Promise<void> {
    this.adopt(await this.sessionCall("/api/session", { id_token: idToken }));
  }

  /** Accept an agency's or a brand's invitation as the signed-in Firebase user; the API signs them in. */
  async acceptInvitation(token: string, idToken: string): Promise<void> {
    this.adopt(await this.sessionCall(`/api/invitations/${encodeURIComponent(token)}/accept`, { id_token: idToken }));
  }

  private async sessionCall(path: string, body: unknown): Promise<SessionAnswer> {
    const res = await this.fetchImpl(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!res.ok) throw await readError(res);
    return (await res.json()) as SessionAnswer;
  }

  /** Resume a cookie session after a reload, when the API left its marker cookie. */
  async resume(): Promise<boolean> {
    if (appBridge()) {
      // embedded: each call carries its own session token; this only learns who that is
      try {
        this.principal = (await this.get<SessionAnswer>("/api/session")).principal;
        return true;
      } catch {
        return false;
      }
    }
    if (typeof document === "undefined" || !document.cookie.split(/;\s*/).some((c) => c.startsWith(`${SESSION_MARKER}=`))) {
      return false;
    }
    this.cookieSession = true;
    try {
      // the session's CSRF token is not kept across reloads: the session answers it again
      this.adopt(await this.get<SessionAnswer>("/api/session"));
      return true;
    } catch {
      this.forget();
      return false;
    }
  }

  private adopt(answer: SessionAnswer): void {
    this.key = null;
    this.cookieSession = true;
    this.csrf = answer.csrf_token;
    this.principal = answer.principal;
  }

  private forget(): void {
    this.key = null;
    this.cookieSession = false;
    this.csrf = null;
    this.principal = null;
  }

  async signOut(): Promise<void> {
    const hadCookie = this.cookieSession;
    const headers = this.headers({}, true);
    this.forget();
    this.cache.clear();
    if (hadCookie) {
      await this.fetchImpl("/api/session", { method: "DELETE", headers, credentials: "same-origin" }).catch(
        () => undefined,
      );
    }
  }

  private headers(extra?: Record<string, string>, unsafe = false): Record<string, string> {
    const h: Record<string, string> = { Accept: "application/json", ...extra };
    if (this.key) h.Authorization = `Bearer ${this.key}`;
    else if (unsafe && this.cookieSession && this.csrf) h[CSRF_HEADER] = this.csrf;
    return h;
  }

  /** The request as sent: embedded, with a fresh session token from App Bridge and no cookie. */
  private async authorized(init: RequestInit): Promise<RequestInit> {
    const bridge = appBridge();
    if (!bridge) return { credentials: "same-origin", ...init };
    let token: string;
    try {
      token = await bridge.idToken();
    } catch {
      throw new ApiError(401, "session_token", "Shopify did not give a session token. Reload the app in your Shopify admin.");
    }
    const headers = { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` };
    return { ...init, headers, credentials: "omit" };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const request = await this.authorized(init);
    let res: Response;
    try {
      res = await this.fetchImpl(url, request);
    } catch {
      throw new ApiError(0, "network", "Could not reach Control Tower. Check your connection and try again.");
    }
    if (res.status === 401 && this.signedIn && !appBridge()) {
      this.forget();
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
    return this.write<T>("POST", path, body);
  }

  /** POST, PUT or DELETE with a JSON body; signed in by cookie, the CSRF token goes with it. */
  async write<T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
    const res = await this.send(path, {
      method,
      headers: this.headers({ "Content-Type": "application/json" }, true),
      body: method === "DELETE" && body === undefined ? undefined : JSON.stringify(body ?? {}),
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
