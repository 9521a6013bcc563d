// A Cloudflare Access team, as the proxy meets it: signing keys served on loopback as Access
// serves them (`/cdn-cgi/access/certs`: `keys` as JWKs, `public_cert` / `public_certs` as PEM
// certificates), and assertions signed with them as Access signs them (RS256, `kid`). Used by
// tests/proxy/access.test.mjs and tests/console/access.test.mjs.

import http from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";

/** The Access application's audience tag in these tests. */
export const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

/** A fresh RSA key pair (2048 bits, as Access uses). */
export const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

export const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** `pair`'s public key as the JWK Access lists under `keys`. */
export const jwk = (kid, pair) => ({ kid, kty: "RSA", alg: "RS256", use: "sig", ...pair.publicKey.export({ format: "jwk" }) });

/** A self-signed X.509 certificate of `pair`'s public key, in PEM (DER built by hand: Node makes no certificates). */
export function certificate(pair) {
  const len = (n) => (n < 128 ? Buffer.from([n]) : Buffer.from([0x82, n >> 8, n & 255]));
  const der = (tag, ...parts) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
  };
  const seq = (...p) => der(0x30, ...p);
  const algorithm = seq(der(0x06, Buffer.from("2a864886f70d01010b", "hex")), Buffer.from([5, 0])); // sha256WithRSAEncryption
  const name = seq(der(0x31, seq(der(0x06, Buffer.from("550403", "hex")), der(0x0c, Buffer.from("gpufleet test")))));
  const validity = seq(der(0x17, Buffer.from("260101000000Z")), der(0x17, Buffer.from("360101000000Z")));
  const spki = pair.publicKey.export({ type: "spki", format: "der" });
  const tbs = seq(der(0xa0, der(0x02, Buffer.from([2]))), der(0x02, Buffer.from([1])), algorithm, name, validity, name, spki);
  const signature = sign("sha256", tbs, pair.privateKey);
  const body = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return `-----BEGIN CERTIFICATE-----\n${body.toString("base64").match(/.{1,64}/g).join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * Starts the team: its certs endpoint on 127.0.0.1 serving `team.doc` (key `k1` to begin with)
 * with status `team.status`, counting `team.reads`. `team.url` is its team domain (the `iss`).
 */
export async function startAccessTeam() {
  const k1 = rsa();
  const team = {
    k1,
    doc: { keys: [jwk("k1", k1)], public_cert: { kid: "k1", cert: certificate(k1) }, public_certs: [{ kid: "k1", cert: certificate(k1) }] },
    status: 200,
    reads: 0,
    url: "",
    /**
     * An assertion as Access makes one for `claims` (over a valid user's: alice@example.com, this
     * team, AUD, ten minutes), signed with `key` (k1's) and naming `kid`.
     */
    assertion(claims = {}, { kid = "k1", key = k1.privateKey, header = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { aud: [AUD], email: "alice@example.com", exp: now + 600, iat: now, nbf: now, iss: team.url, type: "app", sub: "7335d417", ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      const input = `${b64url({ alg: "RS256", kid, typ: "JWT", ...header })}.${b64url(payload)}`;
      return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => (server.listening ? server.close(() => r()) : r()));
    },
  };
  const server = http.createServer((req, res) => {
    if (req.url !== "/cdn-cgi/access/certs") {
      res.writeHead(404).end();
      return;
    }
    team.reads += 1;
    res.writeHead(team.status, { "content-type": "application/json" });
    res.end(team.status === 200 ? JSON.stringify(team.doc) : "{}");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  team.url = `http://127.0.0.1:${server.address().port}`;
  return team;
}
