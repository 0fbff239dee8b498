// The IRC server's connection commands: registration (PASS, NICK, USER, CAP, SASL), PING, QUIT.

import {
  ANONYMOUS,
  Anonymous,
  type AvatarId,
  type ICredentials,
  SimpleRealm,
  UsernamePassword,
} from "../cred/index.js";
import type { Failure } from "../internet/failure.js";
import type { IRCMessage } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import { isupport, lusers, motd } from "./_server_query.js";
import { cleanUsername, type IRCUser, validNick } from "./_server_state.js";

/** The avatar interface IRC servers ask a cred realm for. */
export const IIRCUser: unique symbol = Symbol.for("twisted-ts.words.IIRCUser");

/** What an IRC server needs of an avatar: the account name to show (`null` for anonymous). */
export interface IRCAvatar {
  readonly account: string | null;
}

/**
 * The realm an IRC server uses by default: the avatar of a login is its account name.
 *
 * @example
 * ```ts
 * const portal = new Portal(ircRealm(), parseAuthString("memory:alice:secret"));
 * ```
 */
export function ircRealm(): SimpleRealm<IRCAvatar> {
  return new SimpleRealm((id: AvatarId) => ({ account: id === ANONYMOUS ? null : String(id) }));
}

function accountOf(avatar: unknown): string | null {
  if (typeof avatar === "string") return avatar;
  const a = (avatar as { account?: unknown } | null)?.account;
  return typeof a === "string" ? a : null;
}

/** Logs `user` in through the server's portal; `done(ok)` runs once it is known. */
function login(server: IRCServer, user: IRCUser, creds: ICredentials, done: (ok: boolean) => void) {
  user.authPending = true;
  let waited = false;
  const finish = (ok: boolean) => {
    user.authPending = false;
    if (user.gone) {
      user.logout?.();
      user.logout = null;
      return;
    }
    done(ok);
    if (waited) user.connection.resume?.();
  };
  server.portal!.login(creds, user, IIRCUser).addCallbacks(
    ([, avatar, logout]) => {
      user.logout?.();
      user.account = accountOf(avatar);
      user.logout = logout;
      user.authenticated = true;
      finish(true);
      return null;
    },
    (f: Failure) => {
      finish(false);
      return null;
    },
  );
  waited = user.authPending;
}

/**
 * Completes registration once NICK and USER are in, capability negotiation is over and the
 * user is logged in (when the server has a portal): 001–005, LUSERS, MOTD.
 */
export function tryRegister(server: IRCServer, user: IRCUser): void {
  if (user.registered || user.gone || user.capNegotiating || user.authPending) return;
  if (user.nick === null || user.username === null) return;
  if (server.portal !== null && !user.authenticated) {
    const pw = user.password;
    user.password = null;
    let creds: ICredentials = new Anonymous();
    // A PASS the portal cannot check (only anonymous logins) is ignored, as a server password.
    if (pw !== null && server.acceptsPasswords()) {
      const colon = pw.indexOf(":");
      creds =
        colon > 0
          ? new UsernamePassword(pw.slice(0, colon), pw.slice(colon + 1))
          : new UsernamePassword(user.nick, pw);
    }
    login(server, user, creds, (ok) => {
      if (ok) tryRegister(server, user);
      else {
        server.numeric(user, "464", "Password incorrect");
        server.quit(user, "Bad password");
      }
    });
    return;
  }
  user.registered = true;
  welcome(server, user);
  server.callHook("userRegistered", user);
}

/** The welcome burst: 001–005, then LUSERS and MOTD. */
export function welcome(server: IRCServer, user: IRCUser): void {
  const created = new Date(server.created * 1000).toUTCString();
  server.numeric(
    user,
    "001",
    `Welcome to the ${server.network} Internet Relay Chat Network ${user.prefix}`,
  );
  server.numeric(user, "002", `Your host is ${server.hostname}, running version ${server.version}`);
  server.numeric(user, "003", `This server was created ${created}`);
  server.numeric(user, "004", server.hostname, server.version, "iow", "biklmnostv", "bklov");
  isupport(server, user);
  lusers(server, user);
  motd(server, user);
}

/** PASS: the server password, before NICK/USER. */
export function pass(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  if (user.registered) {
    server.numeric(user, "462", "You may not reregister");
    return;
  }
  user.password = m.params[0]!;
}

/** NICK: sets or changes the nick. */
export function nick(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const wanted = m.params[0];
  if (wanted === undefined || wanted === "") {
    server.numeric(user, "431", "No nickname given");
    return;
  }
  if (!validNick(wanted, server.limits.nick)) {
    server.numeric(user, "432", wanted, "Erroneous nickname");
    return;
  }
  const holder = server.users.get(wanted);
  if (holder !== undefined && holder !== user) {
    server.numeric(user, "433", wanted, "Nickname is already in use");
    return;
  }
  const old = user.nick;
  if (old === wanted) return;
  if (old !== null && server.users.get(old) === user) server.users.delete(old);
  server.users.set(wanted, user);
  if (!user.registered) {
    user.nick = wanted;
    tryRegister(server, user);
    return;
  }
  const prefix = user.prefix;
  server.rememberNick(user);
  user.nick = wanted;
  server.deliver([user, ...server.neighbours(user)], prefix, "NICK", [wanted]);
  server.callHook("nickChanged", user, old ?? "");
}

/** USER: user name and real name. */
export function user(server: IRCServer, u: IRCUser, m: IRCMessage): void {
  if (u.registered || u.username !== null) {
    server.numeric(u, "462", "You may not reregister");
    return;
  }
  u.username = cleanUsername(m.params[0]!);
  u.realname = m.params[3]!.slice(0, 100);
  tryRegister(server, u);
}

function capList(server: IRCServer, user: IRCUser, withValues: boolean): string[] {
  return [...server.capabilities()].map(([k, v]) => (withValues && v !== null ? `${k}=${v}` : k));
}

/** CAP: LS, LIST, REQ, END (capability negotiation 3.2). */
export function cap(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const sub = m.params[0]!.toUpperCase();
  const reply = (...params: string[]) => server.send(user, "CAP", [user.target, ...params]);
  switch (sub) {
    case "LS": {
      if (!user.registered) user.capNegotiating = true;
      const version = Number.parseInt(m.params[1] ?? "0", 10) || 0;
      user.capVersion = Math.max(user.capVersion, version);
      if (user.capVersion >= 302) user.caps.add("cap-notify");
      const caps = capList(server, user, user.capVersion >= 302);
      // Lines stay well under 512 bytes: split the list, "*" marking all but the last.
      const lines: string[] = [];
      let current = "";
      for (const c of caps) {
        if (current.length + c.length + 1 > 300) {
          lines.push(current);
          current = c;
        } else current = current === "" ? c : `${current} ${c}`;
      }
      lines.push(current);
      lines.forEach((line, i) => {
        if (i < lines.length - 1 && user.capVersion >= 302) reply("LS", "*", line);
        else reply("LS", line);
      });
      return;
    }
    case "LIST":
      reply("LIST", [...user.caps].join(" "));
      return;
    case "REQ": {
      if (!user.registered) user.capNegotiating = true;
      const text = m.params[1] ?? "";
      const offered = server.capabilities();
      const names = text.split(" ").filter((c) => c !== "");
      const ok = names.every((n) => offered.has(n[0] === "-" ? n.slice(1) : n));
      if (!ok || names.length === 0) {
        reply("NAK", text);
        return;
      }
      // Acknowledged first: the new capabilities apply from the next message on.
      reply("ACK", text);
      for (const n of names) {
        if (n[0] === "-") user.caps.delete(n.slice(1));
        else user.caps.add(n);
      }
      return;
    }
    case "END":
      if (user.registered || !user.capNegotiating) return;
      user.capNegotiating = false;
      tryRegister(server, user);
      return;
    default:
      server.numeric(user, "410", m.params[0]!, "Invalid CAP command");
  }
}

const saslState = new WeakMap<IRCUser, { buffer: string }>();

/** AUTHENTICATE: SASL PLAIN through the server's portal. */
export function authenticate(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const arg = m.params[0]!;
  if (!server.acceptsPasswords() || !user.caps.has("sasl")) {
    server.numeric(user, "904", "SASL authentication failed");
    return;
  }
  if (user.account !== null) {
    server.numeric(user, "907", "You have already authenticated using SASL");
    return;
  }
  const state = saslState.get(user);
  if (arg === "*") {
    saslState.delete(user);
    server.numeric(user, "906", "SASL authentication aborted");
    return;
  }
  if (state === undefined) {
    if (arg.toUpperCase() !== "PLAIN") {
      server.numeric(user, "908", "PLAIN", "are available SASL mechanisms");
      server.numeric(user, "904", "SASL authentication failed");
      return;
    }
    saslState.set(user, { buffer: "" });
    server.send(user, "AUTHENTICATE", ["+"], null);
    return;
  }
  if (arg.length > 400 || state.buffer.length > 4096) {
    saslState.delete(user);
    server.numeric(user, "905", "SASL message too long");
    return;
  }
  if (arg !== "+") state.buffer += arg;
  if (arg.length === 400) return;
  saslState.delete(user);
  const parts = Buffer.from(state.buffer, "base64").toString("utf8").split("\0");
  const [authzid, authcid, password] = parts;
  if (parts.length !== 3 || authcid === "" || (authzid !== "" && authzid !== authcid)) {
    server.numeric(user, "904", "SASL authentication failed");
    return;
  }
  login(server, user, new UsernamePassword(authcid!, password!), (ok) => {
    if (!ok) {
      server.numeric(user, "904", "SASL authentication failed");
      return;
    }
    const account = user.account ?? authcid!;
    server.numeric(user, "900", user.prefix, account, `You are now logged in as ${account}`);
    server.numeric(user, "903", "SASL authentication successful");
    if (user.registered) {
      const watchers = [...server.neighbours(user)].filter((u) => u.caps.has("account-notify"));
      server.deliver(watchers, user.prefix, "ACCOUNT", [account]);
    }
  });
}

/** PING: answered with PONG. */
export function ping(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const token = m.params[0];
  if (token === undefined || token === "") {
    server.numeric(user, "409", "No origin specified");
    return;
  }
  server.send(user, "PONG", [server.hostname, token]);
}

/** PONG: nothing to do (any input proves the client alive). */
export function pong(server: IRCServer, user: IRCUser, m: IRCMessage): void {}

/** QUIT: leaves, telling the channels. */
export function quit(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const reason = m.params[0];
  server.quit(user, reason === undefined || reason === "" ? "Quit" : `Quit: ${reason}`);
}
