// A real OAuth 2.1 authorization server (node-oidc-provider, pinned in package.json) for mcprt's tests.
//
//   node server.mjs PORT ['{"alg":"ES256",...}']      (or the JSON in the env var AUTHSERVER_CONFIG)
//
// Listens on 127.0.0.1:PORT, prints one line `ISSUER <url>` on stdout when ready, and stops on SIGTERM or
// SIGINT (or when its stdin closes, so a test runner that dies does not leave it behind).
//
// Configuration (JSON, every key optional):
//   path           issuer path, e.g. "/tenant" (default: none, the issuer is http://127.0.0.1:PORT)
//   alg            JWS algorithm of JWT access tokens: "RS256" (default), "ES256", "PS256"
//   keys           the signing keys to generate: [{"alg": "RS256", "kid": "r1"}, ...] (default: one RS256
//                  key "rs-1" and one ES256 key "es-1"; an RS256 key is always needed for ID tokens)
//   jwks           the private signing keys themselves (JWKs with kid and alg), instead of `keys`
//   clientJwk      the private ES256 JWK of client cc-jwt (kid "cc-jwt-key"; default: a new one)
//   signKid        the kid that signs access tokens (default: the first key of `alg`)
//   format         access token format: "jwt" (RFC 9068, default) or "opaque" (introspect them, RFC 7662)
//   ttl            access token lifetime in seconds (default 300)
//   exp            the exp claim of every JWT access token as now+N seconds, while expires_in still says
//                  ttl: a token the resource server refuses before its client expects it to
//   refreshTtl     refresh token lifetime in seconds (default 3600)
//   scopes         resource scopes (default ["mcp:read", "mcp:write", "mcp:admin"])
//   clients        extra client metadata objects (RFC 7591 names), added to the built-in ones below
//   testClaims     honour the test_* token request parameters below (default true)
//
// Built-in clients:
//   cc-basic / cc-secret       client_credentials, client_secret_basic
//   cc-post / cc-secret        client_credentials, client_secret_post
//   cc-jwt                     client_credentials, private_key_jwt: its private JWK is printed on stdout
//                              as `CLIENT_JWK <json>` before the ISSUER line
//   rs / rs-secret             the resource server itself: introspection with client_secret_basic
//   public-app                 public client (token_endpoint_auth_method none), authorization_code + PKCE
//                              (S256), refresh_token, redirect URI http://127.0.0.1/callback
// Dynamic client registration (RFC 7591) is open at /reg.
//
// Test-only token request parameters (token endpoint, JWT access tokens, when testClaims is on):
//   test_exp=N   sets exp to now+N seconds (negative: an already expired token)
//   test_nbf=N   adds nbf = now+N
//   test_iat=N   sets iat to now+N
//   test_typ=T   sets the JWS header typ (e.g. "JWT"), to test the RFC 9068 typ check
//
// Authorization code + PKCE without a browser: GET /auth?client_id=public-app&response_type=code
// &redirect_uri=http://127.0.0.1/callback&code_challenge=...&code_challenge_method=S256&scope=...
// &resource=...&login_hint=alice ; follow the 303 redirects keeping cookies: /interaction/<uid> logs the
// login_hint account in (default "alice") and grants every requested scope at once (no forms), then
// /auth/<uid> redirects to redirect_uri?code=...&state=... ; exchange the code at /token as usual.
// (tests/auth_server.py `authorization_code()` does exactly that.)

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.mjs PORT [CONFIG_JSON]');
  process.exit(2);
}
const config = JSON.parse(process.argv[3] || process.env.AUTHSERVER_CONFIG || '{}');
const path = (config.path || '').replace(/\/+$/, '');
const issuer = `http://127.0.0.1:${port}${path}`;
const alg = config.alg || 'RS256';
const format = config.format || 'jwt';
const ttl = config.ttl ?? 300;
const resourceScopes = config.scopes || ['mcp:read', 'mcp:write', 'mcp:admin'];
const testClaims = config.testClaims ?? true;

function generate(keyAlg, kid) {
  let pair;
  if (keyAlg.startsWith('RS') || keyAlg.startsWith('PS')) {
    pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  } else if (keyAlg === 'ES256') {
    pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  } else if (keyAlg === 'ES384') {
    pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  } else if (keyAlg === 'EdDSA') {
    pair = crypto.generateKeyPairSync('ed25519');
  } else {
    throw new Error(`unsupported key alg ${keyAlg}`);
  }
  return { ...pair.privateKey.export({ format: 'jwk' }), kid, alg: keyAlg, use: 'sig' };
}

// `jwks` (private JWKs, each with kid and alg) takes the keys as they are: tests/auth_server.py makes them
// in Python, quicker and steadier than here (a rare generateKeyPairSync stall was seen under load).
const keySpecs = config.keys || [{ alg: 'RS256', kid: 'rs-1' }, { alg: 'ES256', kid: 'es-1' }];
const keys = config.jwks || keySpecs.map((spec) => generate(spec.alg, spec.kid));
if (!keys.some((key) => key.alg === 'RS256')) keys.push(generate('RS256', 'rs-id-token'));
const signKey = config.signKid ? keys.find((key) => key.kid === config.signKid) : keys.find((key) => key.alg === alg);
if (!signKey) throw new Error(`no key for alg ${alg} / kid ${config.signKid}`);

const clientKey = config.clientJwk || generate('ES256', 'cc-jwt-key');
const { d: _d, ...clientPublicKey } = clientKey;
const scopeList = ['openid', 'offline_access', ...resourceScopes].join(' ');
const clients = [
  { client_id: 'cc-basic', client_secret: 'cc-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', scope: scopeList },
  { client_id: 'cc-post', client_secret: 'cc-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_post', scope: scopeList },
  { client_id: 'cc-jwt', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [clientPublicKey] }, scope: scopeList },
  { client_id: 'rs', client_secret: 'rs-secret', grant_types: [], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'public-app', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'], scope: scopeList },
  ...(config.clients || []),
];

function offset(value) {
  const n = Number(value);
  return Number.isFinite(n) ? Math.floor(Date.now() / 1000) + n : undefined;
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys },
  scopes: ['openid', 'offline_access', ...resourceScopes],
  claims: { openid: ['sub'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  pkce: { required: () => true },
  ttl: {
    AccessToken: ttl,
    ClientCredentials: ttl,
    RefreshToken: config.refreshTtl ?? 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
    IdToken: 300,
    AuthorizationCode: 60,
  },
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => client.clientId === 'rs' || token.clientId === client.clientId,
    },
    revocation: { enabled: true },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => (oneOf ? oneOf[0] : undefined),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => ({
        scope: resourceScopes.join(' '),
        audience: resource,
        accessTokenTTL: ttl,
        accessTokenFormat: format,
        ...(format === 'jwt' ? { jwt: { sign: { alg: signKey.alg, kid: signKey.kid } } } : {}),
      }),
    },
  },
  formats: {
    customizers: {
      jwt: async (ctx, _token, jwt) => {
        const body = (testClaims && ctx?.oidc?.body) || {};
        if (config.exp !== undefined) jwt.payload.exp = offset(config.exp);
        if (body.test_exp !== undefined) jwt.payload.exp = offset(body.test_exp);
        if (body.test_nbf !== undefined) jwt.payload.nbf = offset(body.test_nbf);
        if (body.test_iat !== undefined) jwt.payload.iat = offset(body.test_iat);
        if (body.test_typ !== undefined) jwt.header = { ...jwt.header, typ: String(body.test_typ) };
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `${path}/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'application/json';
    ctx.body = out;
  },
});
provider.proxy = false;

// The no-browser interaction: log the login_hint account in and grant what was asked, in one step.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params } = details;
  const accountId = details.session?.accountId || params.login_hint || 'alice';
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: params.client_id });
  const requested = String(params.scope || '').split(' ').filter(Boolean);
  // The provider lists the resource scopes among its own (discovery shows them), so it asks for them as
  // OIDC scopes too: grant them both ways.
  const oidcScopes = requested;
  const rsScopes = requested.filter((s) => resourceScopes.includes(s));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const resources = [].concat(params.resource || []);
  for (const resource of resources) {
    if (rsScopes.length) grant.addResourceScope(resource, rsScopes.join(' '));
    else grant.addResourceScope(resource, '');
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const RFC8414 = '/.well-known/oauth-authorization-server';
const OIDC = '/.well-known/openid-configuration';
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  // RFC 8414 section 3: the well-known segment goes before the issuer's path.
  if (req.method === 'GET' && (url.pathname === RFC8414 + path || url.pathname === path + RFC8414)) {
    req.originalUrl = path + OIDC + url.search;
    req.url = OIDC + url.search;
  } else if (path) {
    if (url.pathname !== path && !url.pathname.startsWith(`${path}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    req.originalUrl = req.url; // how oidc-provider learns its mount path (the issuer's path) for its URLs
    req.url = req.url.slice(path.length) || '/';
  }
  if (/^\/interaction\/[^/]+$/.test(new URL(req.url, 'http://x').pathname)) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'interaction_failed', error_description: String(err) }));
    });
    return;
  }
  callback(req, res);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`CLIENT_JWK ${JSON.stringify(clientKey)}\nISSUER ${issuer}\n`);
});
