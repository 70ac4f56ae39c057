import assert from "node:assert/strict";
import { test } from "node:test";
import { safeNextPath } from "../../../static/src/lib/api.js";

test("the login page only sends the user back to a path on this site", () => {
  assert.equal(safeNextPath("/workspaces/abc?x=1"), "/workspaces/abc?x=1");
  for (const bad of ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "", null]) {
    assert.equal(safeNextPath(bad), "/");
  }
});

test("a path the browser would read as another site is refused (tabs and newlines are dropped from URLs)", () => {
  for (const bad of ["/\t/evil.example/login", "/\n/evil.example", "/\r/evil.example", "/%09/x", "/a\\b", "/\u0000x"]) {
    const safe = safeNextPath(bad);
    assert.ok(safe === "/" || new URL(safe, "http://here.invalid").origin === "http://here.invalid", `${JSON.stringify(bad)} -> ${safe}`);
  }
  assert.equal(safeNextPath("/\t/evil.example/login"), "/");
  assert.equal(safeNextPath("/login?next=/x"), "/"); // back to the login form: nowhere
  assert.equal(safeNextPath("/sessions?user=a%20b#top"), "/sessions?user=a%20b#top");
});

test("dot segments that resolve to two slashes are another site too", () => {
  // "/.//evil.example" resolves to "//evil.example": location.replace() of that left the site
  for (const bad of ["/.//evil.example/a", "/a/..//evil.example/b", "/%2e//evil.example/c", "/..//evil.example/c2",
    "/.%2e//evil.example", "/./\\evil.example"]) {
    const safe = safeNextPath(bad);
    assert.equal(new URL(safe, "http://here.invalid").origin, "http://here.invalid", `${JSON.stringify(bad)} -> ${safe}`);
    assert.ok(!safe.startsWith("//"), `${JSON.stringify(bad)} -> ${safe}`);
  }
  assert.equal(safeNextPath("/a/../audit"), "/audit"); // an ordinary one still resolves
});
