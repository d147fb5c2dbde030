// The transport SDK's own behaviour in Node: `node --test tests/sdk/` (make test runs it).
// The platform's HTTP side is a real server on loopback; the socket is a WebSocket class
// passed in, as apps pass theirs, that plays the platform's frames.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, beforeEach, test } from "node:test";
import { createRequire } from "node:module";

const { ContactCenterTransport } = createRequire(import.meta.url)(
  "../../messaging/static/messaging/widget/transport.js",
);

const WIDGET = "5b0b7b8e-0000-4000-8000-000000000001";
const DEPLOYMENT = "5b0b7b8e-0000-4000-8000-000000000002";
let authentication = null; // the widget config's
const calls = []; // [action, body] of each /auth/ POST
let base;
let server;

before(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const answer = (status, value) => {
        response.writeHead(status, { "Content-Type": "application/json" });
        response.end(JSON.stringify(value));
      };
      if (request.url === `/widget/deployment/${DEPLOYMENT}/config`) {
        answer(200, {
          widget_id: WIDGET,
          deployment_id: DEPLOYMENT,
          authentication,
          require_authentication: Boolean(authentication),
        });
        return;
      }
      const action = request.url.match(/^\/widget\/[^/]+\/auth\/(\w+)$/);
      if (action) {
        calls.push([action[1], JSON.parse(body)]);
        if (action[1] === "logout") {
          response.writeHead(204).end();
        } else {
          const n = calls.length;
          answer(200, { session_token: `session-${n}`, expires_in: 300, refresh_token: `r-${n}` });
        }
        return;
      }
      answer(404, { code: "not_found", detail: "No deployment has this id." });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

beforeEach(() => {
  authentication = null;
  calls.length = 0;
  FakeSocket.all.length = 0;
  FakeSocket.hanging = false;
});

/* A socket to the platform: records what the transport sends; the test plays the server. */
class FakeSocket {
  static all = [];
  static hanging = false; // new sockets never open, as on a failing network

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
    if (FakeSocket.hanging) {
      return;
    }
    setImmediate(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000) {
    if (this.readyState !== 3) {
      this.readyState = 3;
      setImmediate(() => this.onclose?.({ code }));
    }
  }

  frame(value) {
    this.onmessage({ data: JSON.stringify(value) });
  }

  /* The server ends the connection, or the network does (1006). */
  drop(code = 1006) {
    this.close(code);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const latest = () => FakeSocket.all.at(-1);

async function until(predicate) {
  for (let i = 0; i < 200 && !predicate(); i++) {
    await settle();
  }
  assert.ok(predicate(), "the transport did not get there");
}

function transport(options = {}) {
  const events = [];
  const chat = new ContactCenterTransport({
    domain: base,
    deploymentId: DEPLOYMENT,
    WebSocket: FakeSocket,
    ...options,
  });
  for (const name of ["started", "resumed", "message", "authenticated", "reauthenticate",
    "closed", "error", "reconnecting"]) {
    chat.on(name, (detail) => events.push([name, detail]));
  }
  return { chat, events, named: (name) => events.filter(([n]) => n === name) };
}

/* Start, and answer the start frame on the new socket. */
async function started(chat, conversation = "c-1") {
  const sockets = FakeSocket.all.length;
  chat.start();
  await until(() => FakeSocket.all.length > sockets && latest().sent.length === 1);
  latest().frame({ type: "started", conversation, authenticated: false, resume_token: "rt" });
}

test("it opens the deployment's widget socket and starts with the deployment id", async () => {
  const { chat, named } = transport();
  await started(chat);
  assert.equal(latest().url, `${base.replace("http", "ws")}/ws/widget/${WIDGET}/`);
  assert.deepEqual(latest().sent[0], { type: "start", token: null, deployment_id: DEPLOYMENT });
  assert.deepEqual(named("started")[0][1], { conversation: "c-1", authenticated: false });
});

test("an agent's close ends the conversation without a reconnect", async () => {
  const { chat, named } = transport();
  await started(chat);
  latest().frame({ type: "closed", conversation: "c-1", reason: "agent" });
  latest().drop(4410);
  await until(() => named("closed").length === 1);
  await settle();
  assert.deepEqual(named("closed")[0][1], { conversation: "c-1", reason: "agent" });
  assert.equal(named("reconnecting").length, 0);
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(chat.phase, "ended");
});

test("a dropped connection resumes after the last message, losing and repeating nothing", async () => {
  const { chat, named } = transport();
  await started(chat);
  latest().frame({ type: "message", id: "7", sender: "agent", text: "Hi", sent_at: "" });
  latest().drop();
  await until(() => named("reconnecting").length === 1);
  chat.send("typed while down");
  chat.reconnectNow();
  await until(() => FakeSocket.all.length === 2 && latest().sent.length === 1);
  assert.deepEqual(latest().sent[0], {
    type: "resume", conversation: "c-1", resume_token: "rt", after: "7",
  });
  latest().frame({ type: "resumed", conversation: "c-1", authenticated: false });
  latest().frame({ type: "message", id: "7", sender: "agent", text: "Hi", sent_at: "" });
  assert.deepEqual(latest().sent.slice(1), [{ type: "message", text: "typed while down" }]);
  assert.deepEqual(named("message").map(([, frame]) => frame.id), ["7"]);
});

/* A started chat whose connection drops right after the visitor sent `text`, resumed: the
   new socket, after its resume frame and the transport's probe for the end of the replay. */
async function resumedAfterSending(text) {
  const session = transport();
  await started(session.chat);
  latest().frame({ type: "message", id: "1", sender: "system", text: "Started", sent_at: "" });
  session.chat.send(text);
  latest().drop();
  await until(() => session.named("reconnecting").length === 1);
  session.chat.send("typed while down");
  session.chat.reconnectNow();
  await until(() => FakeSocket.all.length === 2 && latest().sent.length === 1);
  latest().frame({ type: "resumed", conversation: "c-1", authenticated: false });
  assert.deepEqual(latest().sent, [
    { type: "resume", conversation: "c-1", resume_token: "rt", after: "1" },
    { type: "message", text: "" },
  ]);
  return session;
}

const probeRefused = {
  type: "error", code: "bad_frame", detail: "A message is 1 to 4000 characters.",
};

test("a message stored before the drop but not echoed is not sent again", async () => {
  const { chat, named } = await resumedAfterSending("just before the drop");
  latest().frame({ type: "message", id: "2", sender: "visitor", text: "just before the drop" });
  latest().frame({ type: "message", id: "3", sender: "agent", text: "Hello" });
  latest().frame(probeRefused);
  assert.deepEqual(latest().sent.slice(2), [{ type: "message", text: "typed while down" }]);
  assert.deepEqual(named("error"), []);
  chat.send("and now");
  assert.deepEqual(latest().sent.at(-1), { type: "message", text: "and now" });
});

test("a message lost with the connection is sent again once the replay is over", async () => {
  const { chat, named } = await resumedAfterSending("lost with the drop");
  latest().frame({ type: "message", id: "2", sender: "agent", text: "Hello" });
  chat.send("typed during the replay");
  assert.equal(latest().sent.length, 2); // nothing goes before the replay is known
  latest().frame(probeRefused);
  assert.deepEqual(latest().sent.slice(2), [
    { type: "message", text: "lost with the drop" },
    { type: "message", text: "typed while down" },
    { type: "message", text: "typed during the replay" },
  ]);
  assert.deepEqual(named("error"), []);
  latest().frame({ type: "message", id: "3", sender: "visitor", text: "lost with the drop" });
  latest().drop();
  await until(() => named("reconnecting").length === 2);
  chat.reconnectNow();
  await until(() => FakeSocket.all.length === 3 && latest().sent.length === 1);
  latest().frame({ type: "resumed", conversation: "c-1", authenticated: false });
  latest().frame({ type: "message", id: "4", sender: "visitor", text: "typed while down" });
  latest().frame({ type: "message", id: "5", sender: "visitor", text: "typed during the replay" });
  latest().frame(probeRefused);
  assert.deepEqual(latest().sent.slice(2), []);
});

test("a text the platform would refuse is reported, not sent", async () => {
  const { chat, named } = transport();
  await started(chat);
  chat.send("");
  chat.send("x".repeat(4001));
  assert.deepEqual(latest().sent.length, 1);
  assert.deepEqual(named("error").map(([, error]) => error.code), ["bad_frame", "bad_frame"]);
});

test("a connection that never opens is given up after 10 seconds and tried again", async (t) => {
  const { chat, named } = transport();
  await started(chat);
  latest().drop();
  await until(() => named("reconnecting").length === 1);
  FakeSocket.hanging = true;
  t.mock.timers.enable({ apis: ["setTimeout"] });
  chat.reconnectNow();
  const hung = latest();
  t.mock.timers.tick(9999);
  assert.equal(named("reconnecting").length, 1);
  t.mock.timers.tick(1);
  assert.equal(named("reconnecting").length, 2);
  assert.equal(hung.readyState, 3);
  assert.equal(chat.phase, "reconnecting");
});

test("close() drops what waits to be sent, so it never reaches the next conversation", async () => {
  const { chat, named } = transport();
  await started(chat);
  latest().drop();
  await until(() => named("reconnecting").length === 1);
  chat.send("for the old conversation");
  chat.close();
  await started(chat, "c-2");
  assert.deepEqual(latest().sent, [{ type: "start", token: null, deployment_id: DEPLOYMENT }]);
});

test("asked to reauthenticate, a code flow refreshes and sends the new session token", async () => {
  authentication = { type: "openid_connect", javascript_client_function: null };
  const { chat, named } = transport({ authCode: async () => ({ code: "c", redirect_uri: base }) });
  chat.start();
  await until(() => latest()?.sent.length === 1);
  assert.equal(latest().sent[0].token, "session-1");
  latest().frame({ type: "started", conversation: "c-1", authenticated: true, resume_token: "rt" });
  latest().frame({ type: "reauthenticate", expires_in: 60 });
  await until(() => latest().sent.length === 2);
  assert.deepEqual(named("reauthenticate")[0][1], { conversation: "c-1", expires_in: 60 });
  assert.deepEqual(calls.map(([action]) => action), ["exchange", "refresh"]);
  assert.deepEqual(calls[1][1], { refresh_token: "r-1" });
  assert.deepEqual(latest().sent[1], { type: "authenticate", token: "session-2" });
  latest().frame({ type: "authenticated", conversation: "c-1", authenticated: true });
  assert.equal(named("authenticated").length, 1);

  await chat.logout();
  assert.deepEqual(calls.at(-1), ["logout", { refresh_token: "r-2" }]);
});

test("asked to reauthenticate, an implicit flow asks the app for a token again", async () => {
  authentication = { type: "oauth2_implicit", javascript_client_function: null };
  let asked = 0;
  const { chat } = transport({ authToken: async () => `jwt-${++asked}` });
  chat.start();
  await until(() => latest()?.sent.length === 1);
  latest().frame({ type: "started", conversation: "c-1", authenticated: true, resume_token: "rt" });
  latest().frame({ type: "reauthenticate", expires_in: 30 });
  await until(() => latest().sent.length === 2);
  assert.deepEqual(latest().sent[1], { type: "authenticate", token: "jwt-2" });
});

test("an asynchronous store brings the conversation back after a restart", async () => {
  const items = new Map();
  const asyncStorage = {
    getItem: async (key) => items.get(key) ?? null,
    setItem: async (key, value) => void items.set(key, value),
    removeItem: async (key) => void items.delete(key),
  };
  const first = transport({ storage: asyncStorage });
  await started(first.chat);
  await settle();
  assert.ok(items.has(`contactcenter:${DEPLOYMENT}`));

  const again = transport({ storage: asyncStorage });
  again.chat.start();
  await until(() => latest().sent.length === 1 && FakeSocket.all.length === 2);
  assert.deepEqual(latest().sent[0], { type: "resume", conversation: "c-1", resume_token: "rt" });
});

test("the platform's refusal of the deployment is reported with its code", async () => {
  const { chat, named } = transport({ deploymentId: "unknown" });
  chat.start();
  await until(() => named("error").length === 1);
  assert.equal(named("error")[0][1].code, "not_found");
  assert.equal(FakeSocket.all.length, 0);
});

test("without a WebSocket class it says how to get one", (t) => {
  const global = globalThis.WebSocket; // Node 22, or 20 with --experimental-websocket
  t.after(() => {
    globalThis.WebSocket = global;
  });
  delete globalThis.WebSocket;
  assert.throws(
    () => new ContactCenterTransport({ domain: base, deploymentId: DEPLOYMENT }),
    /needs a WebSocket class/,
  );
});
