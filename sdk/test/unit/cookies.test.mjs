import assert from "node:assert/strict";
import { test } from "node:test";
import { cookieString, deletionDomains, matchCookieNames, parseCookies } from "../.build/logic.mjs";

test("parses document.cookie, decoding values and keeping the first duplicate", () => {
  const m = parseCookies("a=1; euconsent-v2=CQ.IA; b=x%20y; a=2; junk");
  assert.equal(m.get("a"), "1");
  assert.equal(m.get("euconsent-v2"), "CQ.IA");
  assert.equal(m.get("b"), "x y");
  assert.equal(m.has("junk"), false);
});

test("cookie strings carry Path, SameSite, Max-Age, Domain and Secure", () => {
  assert.equal(
    cookieString("euconsent-v2", "CQ.IA", { maxAge: 390 * 86400, domain: "example.com", secure: true }),
    "euconsent-v2=CQ.IA; Path=/; SameSite=Lax; Max-Age=33696000; Domain=example.com; Secure",
  );
  const del = cookieString("_ga", "", { maxAge: 0 });
  assert.match(del, /Max-Age=0; Expires=Thu, 01 Jan 1970/);
  assert.doesNotMatch(del, /Domain/);
});

test("patterns match exact names and prefixes ending in *", () => {
  const names = ["_ga", "_ga_ABC", "_gid", "_gat", "_fbp", "session"];
  assert.deepEqual(matchCookieNames(names, ["_ga*", "_gid"]), ["_ga", "_ga_ABC", "_gid", "_gat"]);
  assert.deepEqual(matchCookieNames(names, ["_ga_*"]), ["_ga_ABC"]);
  assert.deepEqual(matchCookieNames(names, ["_fbp"]), ["_fbp"]);
  assert.deepEqual(matchCookieNames(names, ["sess"]), []);
});

test("deletion domains: the host, the cookie domain and parent domains", () => {
  assert.deepEqual(deletionDomains("www.shop.example.com", "example.com"), [
    undefined,
    "example.com",
    "www.shop.example.com",
    "shop.example.com",
  ]);
  assert.deepEqual(deletionDomains("localhost", null), [undefined]);
  assert.deepEqual(deletionDomains("127.0.0.1", null), [undefined]);
});
