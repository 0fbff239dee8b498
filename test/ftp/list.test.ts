// Tests of listings: LIST lines and their parser, MLSD facts, MDTM times, FTPFileListProtocol.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionDone } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import {
  type FTPFileInfo,
  FTPFileListProtocol,
  formatListLine,
  formatMlsxLine,
  formatTimeValue,
  parseMlsxLine,
  parseTimeValue,
  parseUnixListLine,
} from "../../src/protocols/ftp/index.js";
import { splits } from "../protocols/_splits.js";

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0) / 1000;

function info(over: Partial<FTPFileInfo> = {}): FTPFileInfo {
  return {
    name: "a.txt",
    type: "file",
    size: 1234,
    modified: Date.UTC(2024, 5, 1, 8, 5, 0) / 1000,
    permissions: 0o644,
    hardlinks: 1,
    owner: "alice",
    group: "users",
    ...over,
  };
}

describe("LIST lines", () => {
  it("formats recent files with the time and old ones with the year", () => {
    assert.equal(
      formatListLine(info(), NOW),
      "-rw-r--r--    1 alice    users        1234 Jun 01 08:05 a.txt",
    );
    assert.equal(
      formatListLine(info({ modified: Date.UTC(2020, 0, 2) / 1000 }), NOW),
      "-rw-r--r--    1 alice    users        1234 Jan 02  2020 a.txt",
    );
  });

  it("formats directories and links", () => {
    assert.match(
      formatListLine(info({ type: "dir", permissions: 0o755, name: "d" }), NOW),
      /^drwxr-xr-x .* d$/,
    );
    assert.match(
      formatListLine(info({ type: "link", permissions: 0o777, name: "l", target: "/x" }), NOW),
      /^lrwxrwxrwx .* l -> \/x$/,
    );
  });

  it("parses what it formats, names with spaces and UTF-8 included", () => {
    for (const name of ["a.txt", "with  two spaces.txt", "été.bin", " leading"]) {
      const e = parseUnixListLine(formatListLine(info({ name }), NOW));
      assert.equal(e?.filename, name);
      assert.equal(e?.size, 1234);
      assert.equal(e?.owner, "alice");
      assert.equal(e?.perms, "rw-r--r--");
      assert.equal(e?.filetype, "-");
    }
  });

  it("parses listings of other servers (vsftpd, ProFTPD, numeric owners, links)", () => {
    const vsftpd = parseUnixListLine(
      "-rw-r--r--    1 1000     1000         4096 Mar 03 14:15 file.txt",
    );
    assert.equal(vsftpd?.owner, "1000");
    assert.equal(vsftpd?.date, "Mar 03 14:15");
    const link = parseUnixListLine("lrwxrwxrwx 1 root root 7 Jan  1  2021 bin -> usr/bin");
    assert.equal(link?.filename, "bin");
    assert.equal(link?.linktarget, "usr/bin");
    assert.equal(parseUnixListLine("total 12"), null);
    assert.equal(parseUnixListLine(""), null);
  });
});

describe("MLSD facts", () => {
  it("formats type, size, modify, perm and unix.mode", () => {
    assert.equal(
      formatMlsxLine(info(), true),
      "type=file;size=1234;modify=20240601080500;perm=adfrw;unix.mode=0644; a.txt",
    );
    assert.equal(
      formatMlsxLine(info({ type: "dir", name: "d", permissions: 0o755 }), false),
      "type=dir;size=1234;modify=20240601080500;perm=el;unix.mode=0755; d",
    );
  });

  it("parses facts (names lower-cased) and names with spaces", () => {
    assert.deepEqual(parseMlsxLine("Type=file;Size=5;modify=20200101000000; my file.txt"), {
      name: "my file.txt",
      facts: { type: "file", size: "5", modify: "20200101000000" },
    });
    assert.equal(parseMlsxLine("nofacts"), null);
    assert.equal(parseMlsxLine("bad; x"), null);
  });
});

describe("MDTM times", () => {
  it("formats and parses YYYYMMDDHHMMSS in UTC", () => {
    assert.equal(formatTimeValue(1700000000), "20231114221320");
    assert.equal(parseTimeValue("20231114221320"), 1700000000);
    assert.equal(parseTimeValue("20231114221320.5"), 1700000000.5);
    assert.equal(parseTimeValue("2023"), null);
  });
});

describe("FTPFileListProtocol", () => {
  const listing =
    "total 2\r\n-rw-r--r-- 1 a b 3 Jan 01  2020 x y\r\ndrwxr-xr-x 2 a b 0 Feb 02 10:00 été\r\n";
  for (const [name, chunks] of splits(Buffer.from(listing))) {
    it(`collects entries and unknown lines (${name})`, () => {
      const p = new FTPFileListProtocol();
      const unknown: string[] = [];
      p.unknownLine = (l) => unknown.push(l);
      for (const c of chunks) p.dataReceived(c);
      p.connectionLost(new Failure(new ConnectionDone()));
      assert.deepEqual(
        p.files.map((f) => f.filename),
        ["x y", "été"],
      );
      assert.deepEqual(unknown, ["total 2"]);
    });
  }
});
