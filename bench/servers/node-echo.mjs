// Bare node:net echo server on 127.0.0.1:<port>: the baseline the Twisted.ts echo is compared with.
import net from "node:net";

const port = Number(process.argv[2]);
const server = net.createServer((socket) => {
  socket.on("data", (data) => socket.write(data));
  socket.on("error", () => socket.destroy());
});
server.listen({ port, host: "127.0.0.1", backlog: 511 });
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
