// Bare node:http hello server on 127.0.0.1:<port>: 11 bytes `hello world`, text/plain, keep-alive.
import http from "node:http";

const port = Number(process.argv[2]);
const body = Buffer.from("hello world");
const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
  res.end(body);
});
server.listen({ port, host: "127.0.0.1", backlog: 511 });
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
