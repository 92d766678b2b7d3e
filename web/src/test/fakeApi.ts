// A stand-in for the API server in component tests: routes answer JSON; every request is recorded.
import { ApiClient } from "../api/client";

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (req: Recorded) => { status?: number; body?: unknown; headers?: Record<string, string> };

export function fakeFetch(routes: Record<string, Handler | object>) {
  const calls: Recorded[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {}));
    const body = init?.body ? JSON.parse(String(init.body)) : null;
    const req = { method, url, headers, body };
    calls.push(req);
    const path = url.split("?")[0];
    const route = routes[`${method} ${url}`] ?? routes[`${method} ${path}`];
    if (route === undefined) {
      return new Response(JSON.stringify({ error: { code: "not_found", message: `no route ${method} ${path}` } }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      });
    }
    const out = typeof route === "function" ? (route as Handler)(req) : { body: route };
    const status = out.status ?? 200;
    return new Response(status === 304 ? null : JSON.stringify(out.body ?? {}), {
      status,
      headers: { "Content-Type": "application/json", ...(out.headers ?? {}) },
    });
  };
  return { fetchImpl: fetchImpl as typeof fetch, calls };
}

export function clientWith(routes: Record<string, Handler | object>) {
  const { fetchImpl, calls } = fakeFetch(routes);
  return { client: new ApiClient(fetchImpl), calls };
}
