// Preload for the official server (`node --import ./bench/redirect.mjs dist/index.js`).
//
// Its Vapi client (@vapi-ai/server-sdk, Fern-generated) looks up the global `fetch` on
// every request (Node >= 18) and always calls https://api.vapi.ai. This module wraps the
// global `fetch` so that origin goes to the loopback backend in VAPI_BENCH_BACKEND
// (http://127.0.0.1:PORT), and refuses every other destination: nothing leaves the machine.
// The package's own files stay untouched.

const VAPI = "https://api.vapi.ai";
const backend = process.env.VAPI_BENCH_BACKEND ?? "";
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(backend)) {
  throw new Error(`VAPI_BENCH_BACKEND must be http://127.0.0.1:PORT, got ${JSON.stringify(backend)}`);
}

const realFetch = globalThis.fetch;

function redirect(url) {
  if (url === VAPI || url.startsWith(VAPI + "/") || url.startsWith(VAPI + "?")) {
    return backend + url.slice(VAPI.length);
  }
  if (url.startsWith(backend + "/")) return url;
  throw new Error(`bench/redirect.mjs: refusing a request off loopback: ${url}`);
}

globalThis.fetch = function benchFetch(input, init) {
  if (input instanceof Request) {
    return realFetch(new Request(redirect(input.url), input), init);
  }
  return realFetch(redirect(String(input)), init);
};
