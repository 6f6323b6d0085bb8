// A real OpenID provider for the OAuth tests: node-oidc-provider (a certified implementation), on loopback.
//
//   node provider.mjs config.json
//
// config.json: {"issuer", "port", "jwks": {"keys": [private JWKs]}, "resources": [resource URLs this issuer
// serves], "accounts": {"<subject>": ["<scope>", ...]}, "accessTokenTTL": seconds}.
// Dynamic client registration is open; the authorization code flow requires PKCE; access tokens for a
// resource are JWTs (RFC 9068) whose `aud` is that resource (RFC 8707 resource indicators), signed with
// the first key. Interactions are automatic: the account is the request's `login_hint` (there is no password
// page), and consent grants the requested scopes that account is allowed and rejects the others.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import Provider, { errors } from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;
const vapiScopes = [...new Set(Object.values(accounts).flat())];
const alg = config.jwks.keys[0].alg || "ES256";

const provider = new Provider(config.issuer, {
  jwks: config.jwks,
  cookies: { keys: ["vapi-mcp-tests-only-cookie-key"] },
  scopes: ["openid", "offline_access", ...vapiScopes],
  claims: { openid: ["sub"], email: ["email"] },
  pkce: { required: () => true },
  clientDefaults: { grant_types: ["authorization_code"], response_types: ["code"], id_token_signed_response_alg: alg },
  findAccount: async (ctx, id) =>
    accounts[id] ? { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.test` }) } : undefined,
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resources[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (!config.resources.includes(resourceIndicator)) throw new errors.InvalidTarget();
        return {
          scope: vapiScopes.join(" "),
          audience: resourceIndicator,
          accessTokenTTL: config.accessTokenTTL || 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg } },
        };
      },
    },
  },
});
provider.proxy = false;

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === "login") {
    const accountId = params.login_hint;
    if (!accounts[accountId]) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`unknown account ${accountId}: pass login_hint`);
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const accountId = session.accountId;
  const allowed = new Set(accounts[accountId]);
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    const granted = scopes.filter((s) => allowed.has(s));
    const rejected = scopes.filter((s) => !allowed.has(s));
    if (granted.length) grant.addResourceScope(indicator, granted.join(" "));
    if (rejected.length) grant.rejectResourceScope(indicator, rejected.join(" "));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    interaction(req, res).catch((err) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err && err.stack));
    });
    return;
  }
  callback(req, res);
}).listen(config.port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${config.issuer}`);
});
