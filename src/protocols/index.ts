// twisted-ts/protocols: framing, policies, loopback, port forwarding, simple services, PROXY protocol, SOCKS.

export * from "./basic.js";
export * from "./haproxy.js";
export * from "./loopback.js";
export * from "./policies.js";
export * from "./portforward.js";
export * from "./socks.js";
export * from "./wire.js";
