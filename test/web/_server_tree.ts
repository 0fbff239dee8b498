// The resources shared by the server tests (server*.test.ts): a small tree and a request head.

import { Data, type Request, Resource } from "../../src/web/index.js";

/** A leaf answering `hello world` as text/plain. */
export class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request) {
    request.setHeader("Content-Type", "text/plain");
    return "hello world";
  }
}

/** A leaf answering its arguments, path and body as JSON. */
export class Echo extends Resource {
  override isLeaf = true;
  render_POST(request: Request) {
    return JSON.stringify({ args: request.args, body: request.content.read().toString("latin1") });
  }
  render_GET(request: Request) {
    return JSON.stringify({
      args: request.args,
      prepath: request.prepath,
      postpath: request.postpath,
    });
  }
}

/** A root with `hello`, `echo` and an HTML home page as its `''` child. */
export function tree(): Resource {
  const root = new Resource();
  root.putChild("hello", new Hello());
  root.putChild("echo", new Echo());
  root.putChild("", new Data("<h1>home</h1>", "text/html"));
  return root;
}

/** A GET request head for `path`, with `extra` header lines. */
export const GET = (path: string, extra = ""): string =>
  `GET ${path} HTTP/1.1\r\nHost: example.com\r\n${extra}\r\n`;
