// Bare node:http static file server on 127.0.0.1:<port> serving <dir>: streams a file per GET.
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import { join, normalize } from "node:path";

const port = Number(process.argv[2]);
const root = process.argv[3] ?? ".";
const server = http.createServer((req, res) => {
  const path = join(
    root,
    normalize(decodeURIComponent(req.url ?? "/")).replace(/^(\.\.[/\\])+/, ""),
  );
  let size;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size });
  createReadStream(path).pipe(res);
});
server.listen({ port, host: "127.0.0.1", backlog: 511 });
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
