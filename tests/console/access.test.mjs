// The console behind Cloudflare Access, in headless Chromium against the proxy in workerd: a page
// whose requests carry Access's signed assertion (as Cloudflare's edge adds it for a signed-in
// browser) works without a token — read-only for a user CF_ACCESS_WRITERS does not list, with
// create offered to one it does — "Sign out" goes to Access's logout, and a page without an
// assertion is asked for a token, which still works.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startConsole, waitForRows, assertClean } from "./harness.mjs";
import { AUD, startAccessTeam } from "../proxy/access-team.mjs";

let team;
let c;
before(async () => {
  team = await startAccessTeam();
  c = await startConsole({ env: { CF_ACCESS_TEAM_DOMAIN: team.url, CF_ACCESS_AUD: AUD, CF_ACCESS_WRITERS: "ops@example.com" } });
});
after(async () => {
  await c?.close();
  await team?.close();
});

const throughAccess = (claims) => c.open({ token: false, headers: { "cf-access-jwt-assertion": team.assertion(claims) } });

test("a user Access vouches for: no token asked, the fleet listed, read-only", async () => {
  const p = await throughAccess();
  await waitForRows(p);
  assert.equal(await p.isHidden("#login"), true, "no token prompt");
  await p.waitForSelector("#read-only:not([hidden])");
  assert.equal(await p.isHidden("#new-instance"), true, "nothing a read-only caller cannot do is offered");
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), null, "no token kept");
  await assertClean(assert, p, "(Access, reader)");
  await p.context().close();
});

test("a writer is offered create; Sign out is Access's logout", async () => {
  const p = await throughAccess({ email: "ops@example.com" });
  await waitForRows(p);
  await p.waitForSelector("#new-instance:not([hidden])");
  assert.equal(await p.isHidden("#read-only"), true);
  await assertClean(assert, p, "(Access, writer)");
  await Promise.all([p.waitForURL(/\/cdn-cgi\/access\/logout$/), p.click("#logout")]);
  await p.context().close();
});

test("without an assertion (or with one the proxy refuses) the page asks for a token, and the token works", async () => {
  for (const headers of [undefined, { "cf-access-jwt-assertion": team.assertion({ exp: Math.floor(Date.now() / 1000) - 3600 }) }]) {
    const p = await c.open({ token: false, headers });
    await p.waitForSelector("#login:not([hidden])");
    assert.match(await p.textContent("#login-error"), /did not accept your Cloudflare Access sign-in: .*Enter a token instead/);
    if (headers) assert.match(await p.textContent("#login-error"), /has expired/);
    await p.fill("#token", c.token);
    await p.click("#login button[type=submit]");
    await waitForRows(p);
    await p.waitForSelector("#new-instance:not([hidden])");
    await assertClean(assert, p, "(Access refused, then a token)");
    await p.context().close();
  }
});
