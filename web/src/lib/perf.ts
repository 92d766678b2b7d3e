// First meaningful render, measured where it happens: each screen marks the moment its main
// content (not a spinner) is on screen. The browser test reads these marks with the Performance API.

const seen = new Set<string>();

/** Mark `tower:meaningful` once per page load (the first screen with content), and `tower:<screen>` each time. */
export function markMeaningful(screen: string): void {
  if (typeof performance === "undefined" || typeof performance.mark !== "function") return;
  performance.mark(`tower:${screen}`);
  if (!seen.has("first")) {
    seen.add("first");
    performance.mark("tower:meaningful", { detail: { screen } });
  }
}
