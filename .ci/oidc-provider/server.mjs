// A local node-oidc-provider for grantspec's live tier (specs/oidc-provider.yaml).
//
//   node server.mjs [PORT]        PORT from argv, else $OIDC_PROVIDER_PORT, else 0 (pick one)
//
// Listens on 127.0.0.1 only and prints one line, `listening http://127.0.0.1:PORT`,
// once it accepts connections. Exits cleanly on SIGTERM or SIGINT.
//
// The credentials below are throwaway test values for this loopback fixture only.
// Nothing here reaches the network: no dynamic registration, no client metadata
// documents, no remote JWKS, and `fetch` refuses every call.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';

// Resource servers (RFC 8707) that clients may ask tokens for, with their scopes.
const RESOURCE_SERVERS = new Map([
  ['urn:grantspec:api', 'api:read api:write'],
  ['urn:grantspec:reports', 'api:read'],
]);

// A resource server whose access tokens are JWTs (RFC 9068): the default
// resource of the grantspec-jwt client, for `cargo xtask probe`'s discovery test.
const JWT_RESOURCE = 'urn:grantspec:jwt';
const JWT_CLIENT = 'grantspec-jwt';

const CLIENTS = [
  {
    client_id: 'grantspec-basic',
    client_secret: 'basic-secret-4f1c',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'grantspec-post',
    client_secret: 'post-secret-9b2e',
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    // RFC 6749 §2.3.1: with client_secret_basic both are form-urlencoded before base64.
    client_id: 'sp client',
    client_secret: 'p@ss:w/rd+%',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: JWT_CLIENT,
    client_secret: 'jwt-secret-5d7a',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    // RFC 7523 §2.2 / OpenID Connect Core §9: authenticates with an ES256 JWT signed
    // by the public test key pair of crates/test-support/keys (its public half here).
    client_id: 'grantspec-pkjwt',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: {
      keys: [
        {
          ...createPublicKey(
            readFileSync(new URL('../../crates/test-support/keys/ec-public.pem', import.meta.url)),
          ).export({ format: 'jwk' }),
          alg: 'ES256',
          use: 'sig',
        },
      ],
    },
  },
].map((client) => ({
  ...client,
  redirect_uris: [],
  // `admin` is a scope the server knows but no client may ask for: invalid_scope.
  scope: 'api:read api:write',
}));

// The authorization code grant with PKCE (S256 required, refresh tokens), for a
// loopback redirect URI nobody listens on: the runner reads the code from the
// redirect and never follows it. A second registered URI lets a case exchange a
// code with the wrong one.
CLIENTS.push({
  client_id: 'grantspec-code',
  client_secret: 'code-secret-7d3a',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1:9/cb', 'http://127.0.0.1:9/other'],
  scope: 'openid api:read api:write',
});
// Another such client, to present the first one's refresh token.
CLIENTS.push({
  client_id: 'grantspec-code-other',
  client_secret: 'other-code-secret-2c8f',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1:9/cb'],
  scope: 'openid',
});

// The one end-user of this fixture. Its login and consent complete without a
// person: GET /interaction/:uid logs it in at once (see below), and every
// scope a request asks for is granted (loadExistingGrant).
const TEST_ACCOUNT = 'grantspec-user';

function parsePort(value) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port ${JSON.stringify(value)}; expected 0-65535`);
    process.exit(2);
  }
  return port;
}

const port = parsePort(process.argv[2] ?? process.env.OIDC_PROVIDER_PORT ?? '0');

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, HOST, resolve);
});
const { port: boundPort } = server.address();
const issuer = `http://${HOST}:${boundPort}`;

// An ephemeral signing key, so the provider does not fall back to its
// development-only key (ID tokens are never issued here anyway).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: CLIENTS,
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  clientDefaults: {
    grant_types: ['client_credentials'],
    id_token_signed_response_alg: 'ES256',
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  scopes: ['api:read', 'api:write', 'admin'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: async (_ctx, id) => (id === TEST_ACCOUNT
    ? { accountId: id, claims: async () => ({ sub: id }) }
    : undefined),
  // Consent is implied for the test account: a grant of what was asked.
  loadExistingGrant: async (ctx) => {
    const { client, params, session } = ctx.oidc;
    if (session?.accountId !== TEST_ACCOUNT) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: TEST_ACCOUNT });
    grant.addOIDCScope(String(params.scope ?? ''));
    await grant.save();
    return grant;
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  fetch: async (url) => {
    throw new Error(`this fixture makes no outbound requests (refused ${url})`);
  },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    registration: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client) => (client?.clientId === JWT_CLIENT ? JWT_RESOURCE : undefined),
      useGrantedResource: async () => false,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator === JWT_RESOURCE) {
          return { scope: 'api:read', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        const scope = RESOURCE_SERVERS.get(resourceIndicator);
        if (scope !== undefined) {
          return { scope, accessTokenFormat: 'opaque' };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 600,
  },
});

// Browserless login: the interaction page logs the test account in and sends
// the user agent back to the authorization endpoint (303), where the code is
// issued. A client following same-origin redirects with cookies gets a code.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: TEST_ACCOUNT },
    }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }
  await next();
});

server.on('request', provider.callback());
console.log(`listening ${issuer}`);

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Never linger: the harness waits for this process to end.
  setTimeout(() => {
    console.error(`still open 2 s after ${signal}; exiting`);
    process.exit(0);
  }, 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
