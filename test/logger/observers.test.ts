// Tests for FileLogObserver, textFileLogObserver, jsonFileLogObserver and the filters.

process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FileLogObserver,
  FilteringLogObserver,
  type ILogFilterPredicate,
  type ILogObserver,
  InvalidLogLevelError,
  jsonFileLogObserver,
  type LogEvent,
  Logger,
  LogLevel,
  LogLevelFilterPredicate,
  PredicateResult,
  textFileLogObserver,
} from "../../src/logger/index.js";

const T = 1795773600;

function sink(): { text: () => string; write: (s: string) => void } {
  let buffer = "";
  return { text: () => buffer, write: (s: string) => void (buffer += s) };
}

function recorder(): { events: LogEvent[]; observer: ILogObserver } {
  const events: LogEvent[] = [];
  return { events, observer: (event) => events.push(event) };
}

function event(level: LogLevel, namespace: string, format = "x"): LogEvent {
  return { log_level: level, log_namespace: namespace, log_format: format, log_time: T };
}

describe("FileLogObserver", () => {
  it("writes what the formatter returns and skips null or empty text", () => {
    const out = sink();
    const observer = new FileLogObserver(out, (e) =>
      e.log_format === "skip" ? null : e.log_format === "empty" ? "" : `${e.log_format}|`,
    );
    observer({ log_format: "a" });
    observer({ log_format: "skip" });
    observer({ log_format: "empty" });
    observer({ log_format: "b" });
    assert.equal(out.text(), "a|b|");
  });
});

describe("textFileLogObserver", () => {
  it("writes 'time [namespace#level] message' lines", () => {
    const out = sink();
    const log = new Logger("app.web", undefined, textFileLogObserver(out), { clock: () => T });
    log.info("GET {path} -> {code}", { path: "/", code: 200 });
    assert.equal(out.text(), "2026-11-27T10:00:00+0000 [app.web#info] GET / -> 200\n");
  });

  it("writes the traceback of a failure on tab-indented lines", () => {
    const out = sink();
    const log = new Logger("x", undefined, textFileLogObserver(out), { clock: () => T });
    log.failure("Oops", { value: 1, getTraceback: () => "Error: e\n    at f" });
    assert.equal(
      out.text(),
      "2026-11-27T10:00:00+0000 [x#critical] Oops\n\tError: e\n\t    at f\n",
    );
  });

  it("uses the given strftime time format, or '-' when it is null", () => {
    const custom = sink();
    textFileLogObserver(custom, "%H:%M")(event(LogLevel.warn, "n"));
    assert.equal(custom.text(), "10:00 [n#warn] x\n");
    const none = sink();
    textFileLogObserver(none, null)(event(LogLevel.warn, "n"));
    assert.equal(none.text(), "- [n#warn] x\n");
  });

  it("writes nothing for an event without text", () => {
    const out = sink();
    textFileLogObserver(out)({ log_level: LogLevel.info, log_time: T });
    assert.equal(out.text(), "");
  });
});

describe("jsonFileLogObserver", () => {
  it("writes one JSON object per line", () => {
    const out = sink();
    const log = new Logger("svc", undefined, jsonFileLogObserver(out), { clock: () => T });
    log.info("hi {who}", { who: "bob" });
    log.warn("second");
    const lines = out.text().split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[2], "");
    const first = JSON.parse(lines[0] ?? "");
    assert.equal(first.who, "bob");
    assert.equal(first.log_level, "info");
    assert.equal(first.log_namespace, "svc");
    assert.equal(first.log_time, T);
    assert.deepEqual(first.log_flattened, { who: "bob" });
    assert.equal("log_logger" in first, false);
  });

  it("prefixes each record with the record separator when asked (RFC 7464)", () => {
    const out = sink();
    jsonFileLogObserver(out, { recordSeparator: "\x1e" })({ log_format: "x" });
    assert.match(out.text(), /^\x1e\{.*\}\n$/);
  });

  it("never throws on unserialisable fields", () => {
    const out = sink();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const hostile = {
      toJSON() {
        throw new Error("no JSON for you");
      },
    };
    const observer = jsonFileLogObserver(out);
    observer({ log_format: "{c}", c: cyclic, n: 10n, f: () => 1 });
    observer({ log_format: "x", h: hostile, log_level: LogLevel.error });
    const [first, second] = out
      .text()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(first.c, { self: "[Circular]" });
    assert.equal(first.n, "10");
    assert.equal(typeof first.f, "string");
    assert.match(second.log_text, /^Unable to serialise event: Error: no JSON for you$/);
    assert.equal(second.log_level, "error");
  });
});

describe("FilteringLogObserver", () => {
  const yes: ILogFilterPredicate = () => PredicateResult.yes;
  const no: ILogFilterPredicate = () => PredicateResult.no;
  const maybe: ILogFilterPredicate = () => PredicateResult.maybe;

  it("forwards when all predicates say maybe, and when there are none", () => {
    const { events, observer } = recorder();
    new FilteringLogObserver(observer, [maybe, maybe])({ n: 1 });
    new FilteringLogObserver(observer, [])({ n: 2 });
    assert.equal(events.length, 2);
  });

  it("stops at the first yes or no", () => {
    const kept = recorder();
    const dropped = recorder();
    let asked = 0;
    const counting: ILogFilterPredicate = () => {
      asked++;
      return PredicateResult.no;
    };
    new FilteringLogObserver(kept.observer, [maybe, yes, counting], dropped.observer)({ n: 1 });
    new FilteringLogObserver(kept.observer, [no, counting], dropped.observer)({ n: 2 });
    assert.equal(asked, 0);
    assert.deepEqual(
      kept.events.map((e) => e.n),
      [1],
    );
    assert.deepEqual(
      dropped.events.map((e) => e.n),
      [2],
    );
  });

  it("throws a TypeError on an invalid predicate result", () => {
    const bad = (() => "perhaps") as unknown as ILogFilterPredicate;
    assert.throws(
      () => new FilteringLogObserver(() => {}, [bad])({}),
      /^TypeError: Invalid predicate result: perhaps$/,
    );
  });

  it("observesLevel follows level predicates, and is true when a predicate cannot tell", () => {
    const levels = new LogLevelFilterPredicate(LogLevel.warn);
    const filtered = new FilteringLogObserver(() => {}, [levels]);
    assert.equal(filtered.observesLevel(LogLevel.info, "a"), false);
    assert.equal(filtered.observesLevel(LogLevel.error, "a"), true);
    assert.equal(
      new FilteringLogObserver(() => {}, [maybe, levels]).observesLevel(LogLevel.debug, "a"),
      true,
    );
    const negative = new FilteringLogObserver(
      () => {},
      [levels],
      () => {},
    );
    assert.equal(negative.observesLevel(LogLevel.debug, "a"), true);
  });
});

describe("LogLevelFilterPredicate", () => {
  it("refuses events below the default level (info unless given)", () => {
    const predicate = new LogLevelFilterPredicate();
    assert.equal(predicate.defaultLogLevel, LogLevel.info);
    assert.equal(predicate(event(LogLevel.debug, "a")), PredicateResult.no);
    assert.equal(predicate(event(LogLevel.info, "a")), PredicateResult.maybe);
    assert.equal(new LogLevelFilterPredicate(LogLevel.error)(event(LogLevel.warn, "a")), "no");
  });

  it("refuses events without a level or namespace", () => {
    const predicate = new LogLevelFilterPredicate(LogLevel.debug);
    assert.equal(predicate({ log_namespace: "a" }), PredicateResult.no);
    assert.equal(predicate({ log_level: LogLevel.critical }), PredicateResult.no);
  });

  it("a namespace inherits the level of its nearest dotted prefix", () => {
    const predicate = new LogLevelFilterPredicate(LogLevel.warn);
    predicate.setLogLevelForNamespace("web", LogLevel.debug);
    predicate.setLogLevelForNamespace("web.server.http", LogLevel.error);
    assert.equal(predicate.logLevelForNamespace("web"), LogLevel.debug);
    assert.equal(predicate.logLevelForNamespace("web.client"), LogLevel.debug);
    assert.equal(predicate.logLevelForNamespace("web.server.http.chunked"), LogLevel.error);
    assert.equal(predicate.logLevelForNamespace("webby"), LogLevel.warn);
    assert.equal(predicate.logLevelForNamespace(""), LogLevel.warn);
    assert.equal(predicate(event(LogLevel.debug, "web.client")), PredicateResult.maybe);
    assert.equal(predicate(event(LogLevel.warn, "web.server.http")), PredicateResult.no);
  });

  it("a level set after a lookup takes effect (no stale cache)", () => {
    const predicate = new LogLevelFilterPredicate();
    assert.equal(predicate.logLevelForNamespace("a.b"), LogLevel.info);
    predicate.setLogLevelForNamespace("a", LogLevel.critical);
    assert.equal(predicate.logLevelForNamespace("a.b"), LogLevel.critical);
  });

  it("the empty namespace sets the default; clearLogLevels restores the original", () => {
    const predicate = new LogLevelFilterPredicate(LogLevel.info);
    predicate.setLogLevelForNamespace("a", LogLevel.debug);
    predicate.setLogLevelForNamespace("", LogLevel.error);
    assert.equal(predicate.logLevelForNamespace("b"), LogLevel.error);
    assert.equal(predicate.logLevelForNamespace("a"), LogLevel.debug);
    predicate.clearLogLevels();
    assert.equal(predicate.logLevelForNamespace("a"), LogLevel.info);
    assert.equal(predicate.logLevelForNamespace("b"), LogLevel.info);
  });

  it("refuses something that is not a level", () => {
    assert.throws(
      () => new LogLevelFilterPredicate().setLogLevelForNamespace("a", "debug" as never),
      InvalidLogLevelError,
    );
    assert.throws(() => new LogLevelFilterPredicate("info" as never), InvalidLogLevelError);
  });
});
