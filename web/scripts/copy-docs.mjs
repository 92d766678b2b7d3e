// The API's interactive documentation at /docs: Swagger UI's static files (the swagger-ui-dist
// package, a build dependency, so no CDN) copied into dist/docs with a page and an initializer of
// our own that read /api/openapi.json. The initializer is a file, not an inline script, because the
// page's Content-Security-Policy allows scripts from 'self' only. The files live outside
// dist/assets, so they are not counted against the page's own bundle budget.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const source = dirname(require.resolve("swagger-ui-dist/package.json"));
const target = new URL("../dist/docs/", import.meta.url).pathname;
mkdirSync(target, { recursive: true });

for (const name of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "LICENSE", "NOTICE"]) {
  copyFileSync(join(source, name), join(target, name));
}

// Absolute paths: /docs and /docs/ both serve this page.
writeFileSync(join(target, "index.html"), `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Control Tower API</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <main id="swagger-ui"></main>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/docs.js"></script>
  </body>
</html>
`);

// "Authorize" takes an API key as the bearer token; it stays in this tab's memory (no persistence).
writeFileSync(join(target, "docs.js"), `window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
});
`);
console.log(`API docs: Swagger UI copied to ${target}`);
