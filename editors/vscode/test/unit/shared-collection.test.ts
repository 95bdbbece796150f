// Push and pull diagnostics share one collection, disposed when the last of the two lets it go.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SharedCollection } from "../../src/shared-collection";

class FakeCollection {
  disposed = false;
  constructor(readonly name: string | undefined) {}
  dispose(): void {
    this.disposed = true;
  }
}

test("push and pull get the same collection; it goes when both have disposed it", () => {
  const shared = new SharedCollection((name) => new FakeCollection(name));
  const push = shared.create("ftsc");
  const pull = shared.create("ftsc");
  assert.equal(push, pull);
  assert.equal(push.name, "ftsc");
  shared.dispose(pull);
  assert.equal(push.disposed, false);
  shared.dispose(push);
  assert.equal(push.disposed, true);
  const after = shared.create("ftsc"); // a restarted client gets a fresh one
  assert.notEqual(after, push);
  assert.equal(after.disposed, false);
});

test("a collection it did not make is disposed at once", () => {
  const shared = new SharedCollection((name) => new FakeCollection(name));
  const mine = shared.create("ftsc");
  const stranger = new FakeCollection("other");
  shared.dispose(stranger);
  assert.equal(stranger.disposed, true);
  assert.equal(mine.disposed, false);
});
