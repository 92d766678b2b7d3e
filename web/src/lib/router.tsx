// A small history router: the page has six screens, not worth a routing library's bytes.
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useRef, useSyncExternalStore } from "react";

const NAV_EVENT = "tower:navigate";

function subscribe(cb: () => void): () => void {
  window.addEventListener("popstate", cb);
  window.addEventListener(NAV_EVENT, cb);
  return () => {
    window.removeEventListener("popstate", cb);
    window.removeEventListener(NAV_EVENT, cb);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAV_EVENT));
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, () => "/");
  const [path, search = ""] = href.split("?");
  return { path, query: new URLSearchParams(search) };
}

export type Route =
  | { name: "overview" }
  | { name: "brand"; brandId: string }
  | { name: "help"; topic: string | null }
  | { name: "signin" }
  | { name: "apiKeys" }
  | { name: "team" }
  | { name: "invitation"; token: string }
  | { name: "unsubscribe" }
  | { name: "onboarding"; brandId: string }
  | { name: "notFound" };

export function matchRoute(path: string): Route {
  const clean = path.replace(/\/+$/, "") || "/";
  if (clean === "/") return { name: "overview" };
  if (clean === "/signin") return { name: "signin" };
  if (clean === "/settings/api-keys") return { name: "apiKeys" };
  if (clean === "/settings/team") return { name: "team" };
  const invited = clean.match(/^\/invitations\/([A-Za-z0-9_-]+)$/);
  if (invited) return { name: "invitation", token: invited[1] };
  if (clean === "/unsubscribe") return { name: "unsubscribe" };
  let m = /^\/brands\/([^/]+)$/.exec(clean);
  if (m) return { name: "brand", brandId: decodeURIComponent(m[1]) };
  m = /^\/onboarding\/([^/]+)$/.exec(clean);
  if (m) return { name: "onboarding", brandId: decodeURIComponent(m[1]) };
  if (clean === "/help") return { name: "help", topic: null };
  m = /^\/help\/([a-z0-9-]+)$/.exec(clean);
  if (m) return { name: "help", topic: m[1] };
  return { name: "notFound" };
}

/** Update some query parameters of the current URL (null removes one), keeping the others. */
export function setQuery(updates: Record<string, string | null>, opts: { replace?: boolean } = {}): void {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(updates)) {
    if (v === null || v === "") q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(window.location.pathname + (s ? `?${s}` : ""), opts);
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An ordinary link (open in new tab works) that navigates in place on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  function handle(e: MouseEvent<HTMLAnchorElement>) {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  }
  return <a href={to} onClick={handle} {...rest} />;
}

/** Move focus to the new screen's heading after a navigation (not on first load), so screen readers and keyboards follow. */
export function useFocusOnNavigate(ref: { current: HTMLElement | null }, key: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus();
  }, [key, ref]);
}
