// A real OpenID provider for the `resource_server` example's tests and for trying the example
// by hand: panva's certified oidc-provider, issuing JWT access tokens (RFC 9068) through the
// client credentials grant, on 127.0.0.1 only.
//
//   PORT=4000 AUDIENCE=https://api.example KEYS_FILE=/tmp/keys.json node server.mjs
//
// Its signing keys live in KEYS_FILE (made with one RSA key when absent). ROTATE=1 adds a new
// key in front (the provider signs with the first key and still publishes the older ones):
// restarting with ROTATE=1 is the provider's own rotation, the way its `jwks` setting does it.
//
// Clients: `service` (secret `service-secret`, scopes `read admin`) and `reader`
// (`reader-secret`, scope `read`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT || 4000);
const audience = process.env.AUDIENCE || 'https://api.example';
const keysFile = process.env.KEYS_FILE || 'keys.json';
const issuer = `http://127.0.0.1:${port}`;

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `key-${Date.now()}`, alg: 'RS256', use: 'sig' };
}

let keys = fs.existsSync(keysFile) ? JSON.parse(fs.readFileSync(keysFile, 'utf8')) : [];
if (keys.length === 0 || process.env.ROTATE === '1') {
  keys = [newKey(), ...keys];
  fs.writeFileSync(keysFile, JSON.stringify(keys));
}

const client = (id, scope) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  scope,
});

const provider = new Provider(issuer, {
  jwks: { keys },
  clients: [client('service', 'read admin'), client('reader', 'read')],
  scopes: ['read', 'admin'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== audience) throw new errors.InvalidTarget();
        return {
          scope: 'read admin',
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${issuer} (signing key ${keys[0].kid}, ${keys.length} published)`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
