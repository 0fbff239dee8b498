// How TCPTransport writes: small writes made during one callback leave in one system call once
// it returns (so a reply written line by line is one segment, not a segment per line held back
// by Nagle's algorithm), big ones at once, and nothing is reordered or lost around closes.

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { afterEach, test } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { TCPPort, TCPTransport } from "../../src/internet/_tcp.js";
import { COALESCE_LIMIT } from "../../src/internet/_tcp_write.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import { portOf, stopAll, within } from "../_helpers/tcp.js";

const ports: IListeningPort[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await stopAll(ports);
});

/** Counts the server socket's `write` calls, and runs `onData` for each chunk received. */
class Counting extends Protocol {
  socketWrites: (string | Uint8Array)[] = [];
  corks = 0;
  constructor(private readonly onData: (p: Counting, data: Buffer) => void) {
    super();
  }
  override connectionMade(): void {
    const socket = (this.transport as TCPTransport).socket;
    const write = socket.write.bind(socket) as (chunk: string | Uint8Array) => boolean;
    socket.write = ((chunk: string | Uint8Array) => {
      this.socketWrites.push(chunk);
      return write(chunk);
    }) as typeof socket.write;
    const cork = socket.cork.bind(socket);
    socket.cork = () => {
      this.corks++;
      cork();
    };
  }
  override dataReceived(data: Buffer): void {
    this.onData(this, data);
  }
}

async function serve(onData: (p: Counting, data: Buffer) => void) {
  const reactor = new NodeReactor();
  const built: Counting[] = [];
  const factory = new Factory();
  factory.buildProtocol = () => {
    const p = new Counting(onData);
    built.push(p);
    return p;
  };
  const port = reactor.listenTCP(0, factory, 50, "127.0.0.1") as TCPPort;
  ports.push(port);
  const socket = createConnection({ port: portOf(port.getHost()), host: "127.0.0.1" });
  clients.push(socket);
  socket.on("error", () => {});
  await within("connect", new Promise((r) => socket.once("connect", r)));
  return { socket, built };
}

function readAll(socket: Socket, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (until(text)) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
  });
}

test("the lines of a reply written one by one reach the socket as one write, in order", async () => {
  let countAtReturn = -1;
  const { socket, built } = await serve((p, data) => {
    for (let i = 0; i < 5; i++) p.transport!.write(`${data.toString().trim()} line ${i}\r\n`);
    p.transport!.writeSequence(["and ", Buffer.from("more\r\n")]);
    countAtReturn = p.socketWrites.length;
  });
  const got = readAll(socket, (t) => t.endsWith("more\r\n"));
  socket.write("hi\r\n");
  const text = await within("the reply", got);
  assert.equal(
    text,
    "hi line 0\r\nhi line 1\r\nhi line 2\r\nhi line 3\r\nhi line 4\r\nand more\r\n",
  );
  assert.equal(countAtReturn, 0, "nothing is written while the callback runs");
  const writes = built[0]!.socketWrites;
  assert.equal(writes.length, 7, "seven chunks");
  assert.equal(built[0]!.corks, 1, "within one cork: a single writev");
  assert.equal((built[0]!.transport as TCPTransport)._pending, null);
});

test("a write of COALESCE_LIMIT bytes or more goes out at once, after what was buffered", async () => {
  const big = Buffer.alloc(COALESCE_LIMIT, 0x62);
  let writesAfterBig = -1;
  const { socket, built } = await serve((p) => {
    p.transport!.write("a");
    assert.equal(p.socketWrites.length, 0);
    p.transport!.write(big);
    writesAfterBig = p.socketWrites.length;
    p.transport!.write("c");
  });
  const got = readAll(socket, (t) => t.endsWith("c"));
  socket.write("go");
  const text = await within("the reply", got);
  assert.equal(text, `a${"b".repeat(COALESCE_LIMIT)}c`);
  assert.equal(writesAfterBig, 2, "the buffered 'a' and the big write left at once, in order");
  assert.equal(built[0]!.socketWrites.length, 3);
});

test("loseConnection and loseWriteConnection send what was buffered first; abortConnection drops it", async () => {
  const { socket } = await serve((p, data) => {
    p.transport!.write("bye ");
    p.transport!.write(data);
    p.transport!.loseConnection();
  });
  const ended = new Promise((r) => socket.once("end", r));
  let text = "";
  socket.on("data", (d) => {
    text += d.toString();
  });
  socket.write("now");
  await within("the close", ended);
  assert.equal(text, "bye now");

  const aborted = await serve((p) => {
    p.transport!.write("never sent");
    (p.transport as TCPTransport).abortConnection();
  });
  let received = "";
  aborted.socket.on("data", (d) => {
    received += d.toString();
  });
  const closed = new Promise((r) => aborted.socket.once("close", r));
  aborted.socket.write("x");
  await within("the abort", closed);
  assert.equal(received, "");
});
