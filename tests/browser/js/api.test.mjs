import assert from "node:assert/strict";
import { test } from "node:test";
import { safeNextPath } from "../../../static/src/lib/api.js";

test("the login page only sends the user back to a path on this site", () => {
  assert.equal(safeNextPath("/workspaces/abc?x=1"), "/workspaces/abc?x=1");
  for (const bad of ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "", null]) {
    assert.equal(safeNextPath(bad), "/");
  }
});
