// Test helpers for FTP over real sockets: a server on 127.0.0.1 over a temporary root, and clients.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AllowAnonymousAccess,
  InMemoryUsernamePasswordDatabase,
  Portal,
} from "../../src/cred/index.js";
import type { NodeReactor } from "../../src/internet/_reactor.js";
import type {
  IConsumer,
  IListeningPort,
  IProducer,
  IPushProducer,
} from "../../src/internet/interfaces.js";
import { ClientCreator } from "../../src/internet/protocol.js";
import {
  FTPClient,
  type FTPClientOptions,
  FTPFactory,
  type FTPFactoryOptions,
  FTPRealm,
} from "../../src/protocols/ftp/index.js";
import { ROOT, type Started, start } from "../_helpers/proc.js";
import { within } from "../_helpers/tcp.js";

/** A temporary directory, removed by `remove()`. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Random bytes (the same for a given size within a run). */
export function payload(size: number): Buffer {
  return randomBytes(size);
}

/** A server listening on 127.0.0.1 (a random port) with users alice/secret and anonymous. */
export function listenFTP(
  reactor: NodeReactor,
  root: string,
  options: Partial<FTPFactoryOptions> & {
    ssl?: { key: string; cert: string };
    iface?: string;
  } = {},
): { factory: FTPFactory; port: IListeningPort; number: number } {
  const portal = new Portal(new FTPRealm({ root }), [
    new InMemoryUsernamePasswordDatabase({ alice: "secret" }),
    new AllowAnonymousAccess(),
  ]);
  const { ssl, iface = "127.0.0.1", ...factoryOptions } = options;
  const factory = new FTPFactory(portal, { reactor, allowAnonymous: true, ...factoryOptions });
  const port =
    ssl === undefined
      ? reactor.listenTCP(0, factory, 50, iface)
      : reactor.listenSSL(0, factory, { key: ssl.key, cert: ssl.cert }, 50, iface);
  return { factory, port, number: (port.getHost() as unknown as { port: number }).port };
}

/**
 * Runs `twist ftp` as a command on 127.0.0.1:`port` over `root`, with user alice/secret and the
 * `extra` options; resolves once it listens (stopping it if it never does).
 */
export async function startTwistFTP(
  port: number,
  root: string,
  extra: readonly string[] = [],
): Promise<Started> {
  const twist = start(process.execPath, [
    `${ROOT}bin/twist.js`,
    "ftp",
    "--listen",
    `tcp:${port}:interface=127.0.0.1`,
    "--root",
    root,
    "--auth",
    "memory:alice:secret",
    ...extra,
  ]);
  try {
    await twist.waitFor(/ftp listening on/, 15000);
  } catch (e) {
    await twist.stop("SIGTERM");
    throw e;
  }
  return twist;
}

/** Connects an FTPClient to 127.0.0.1:`port`, over TLS from the start when `implicit`. */
export function connectClient(
  reactor: NodeReactor,
  port: number,
  options: FTPClientOptions = {},
  implicit?: { ca: string },
): Promise<FTPClient> {
  const creator = new ClientCreator(reactor, FTPClient, { reactor, ...options });
  const d =
    implicit === undefined
      ? creator.connectTCP("127.0.0.1", port)
      : creator.connectSSL("localhost", port, { ca: implicit.ca, servername: "localhost" });
  return within("the FTP connection", d, 5000);
}

/** A consumer that collects a download and can pause its producer (the data connection). */
export class CollectingConsumer implements IConsumer {
  readonly chunks: Buffer[] = [];
  size = 0;
  producer: IProducer | null = null;
  onData: ((size: number) => void) | null = null;
  registerProducer(producer: IProducer): void {
    this.producer = producer;
  }
  unregisterProducer(): void {
    this.producer = null;
  }
  write(data: Uint8Array | string): void {
    const b = Buffer.from(data);
    this.chunks.push(b);
    this.size += b.length;
    this.onData?.(this.size);
  }
  pause(): void {
    (this.producer as IPushProducer | null)?.pauseProducing();
  }
  resume(): void {
    (this.producer as IPushProducer | null)?.resumeProducing();
  }
  get value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Uploads `data` in chunks with `storeFile` (or `append`), finishing the upload. */
export async function upload(
  client: FTPClient,
  path: string,
  data: Buffer,
  offset = 0,
  append = false,
): Promise<number> {
  const [consumer, done] = append ? client.append(path) : client.storeFile(path, offset);
  const c = await within("the upload consumer", consumer, 10000);
  for (let i = 0; i < data.length; i += 256 * 1024) c.write(data.subarray(i, i + 256 * 1024));
  c.finish();
  return (await within("the upload", done, 20000)).code;
}

/** Downloads `path` into memory. */
export async function download(client: FTPClient, path: string, offset = 0): Promise<Buffer> {
  const sink = new CollectingConsumer();
  await within("the download", client.retrieveFile(path, sink, offset), 20000);
  return sink.value;
}
