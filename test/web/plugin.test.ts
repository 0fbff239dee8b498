// Tests of the `twist web` plugin's options (the site it builds), without sockets.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UsageError } from "../../src/application/_plugin.js";
import { makeWebSite, webPlugin } from "../../src/cli/plugins/web.js";
import { Clock } from "../../src/testing/index.js";
import { connectTo } from "./_helpers.js";

const opts = (o: Record<string, unknown>) => ({ _: [], ...o }) as Parameters<typeof makeWebSite>[0];

describe("twist web options", () => {
  it("declares Twisted-like options with the documented defaults", () => {
    assert.equal(webPlugin.name, "web");
    assert.deepEqual(webPlugin.options.listen?.default, ["tcp:8080"]);
    assert.equal(webPlugin.options.path?.default, ".");
    for (const o of [
      "index",
      "mime-type",
      "add-header",
      "access-log",
      "display-tracebacks",
      "class",
    ]) {
      assert.ok(webPlugin.options[o], o);
    }
  });

  it("serves a Resource class or instance from --class", async () => {
    const clock = new Clock();
    const site = await makeWebSite(opts({ class: "test/web/fixtures/app.ts:Root" }), clock);
    const s = connectTo(site, clock);
    s.send("GET /x/y HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal(s.responses(["GET"])[0]?.body.toString(), "app at /x/y");
    const banner = await makeWebSite(opts({ class: "test/web/fixtures/app.ts:banner" }), clock);
    const b = connectTo(banner, clock);
    b.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal(b.responses(["GET"])[0]?.body.toString(), "banner");
  });

  it("applies --index, --mime-type and --add-header", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twisted-ts-web-plugin-"));
    try {
      writeFileSync(join(dir, "start.md"), "# start");
      const clock = new Clock();
      const site = await makeWebSite(
        opts({
          path: dir,
          index: ["start.md"],
          "mime-type": ["md=text/markdown"],
          "add-header": ["X-A: 1", "X-B:2"],
        }),
        clock,
      );
      const s = connectTo(site, clock);
      s.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
      // The file is read asynchronously.
      for (let i = 0; i < 500 && !s.tr.value().toString().endsWith("# start"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const [done] = s.responses(["GET"]);
      assert.equal(done?.header("content-type"), "text/markdown");
      assert.equal(done?.header("x-a"), "1");
      assert.equal(done?.header("x-b"), "2");
      assert.equal(done?.body.toString(), "# start");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses bad values with a UsageError", async () => {
    const clock = new Clock();
    const bad: Record<string, unknown>[] = [
      { path: "/no/such/dir" },
      { path: ".", "mime-type": ["nonsense"] },
      { path: ".", "add-header": ["no colon"] },
      { class: "test/web/fixtures/app.ts" },
      { class: "test/web/fixtures/app.ts:missing" },
      { class: "test/web/fixtures/app.ts:notAResource" },
    ];
    for (const o of bad)
      await assert.rejects(makeWebSite(opts(o), clock), UsageError, JSON.stringify(o));
  });
});
