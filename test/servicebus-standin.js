// servicebus-standin.js: a small AMQP 1.0 stand-in for Azure Service Bus, on npm rhea, for the
// tests of svgateway's azure feed consumer (the real azservicebus client with a connection string
// carrying UseDevelopmentEmulator=true, which speaks plain AMQP to sb://127.0.0.1:PORT).
//
//   node servicebus-standin.js PORT TOPIC/Subscriptions/SUB [...]
//
// What it does, and nothing more:
//   - SASL ANONYMOUS; any key is accepted (there is no auth to test here).
//   - $cbs: answers every put-token with status-code 202 as an AMQP int (int32), correlation-id =
//     the request's message-id, on the link the client opened from "$cbs" to its reply address.
//   - $management of an entity: peek-message answers 204 (no messages); any other operation 200
//     with an empty map.
//   - A sender link to TOPIC: every message is copied into each of the topic's subscriptions.
//   - A receiver link from TOPIC/Subscriptions/SUB: messages go out as far as the link credit goes,
//     with a 16-byte lock token as delivery tag and the annotations x-opt-sequence-number (long),
//     x-opt-enqueued-time and x-opt-locked-until (timestamps); delivery-count counts earlier
//     deliveries. PeekLock (settle mode "second"): accepted (complete) removes the message;
//     released or modified (abandon) puts it back with its delivery count raised, redelivered after
//     200 ms (azservicebus releases what arrives between two ReceiveMessages calls: an immediate
//     redelivery would ping-pong); rejected (dead-letter) drops it. A link or connection that goes
//     away puts back whatever it held unsettled.
//   - The settle modes the client asks for are echoed on attach (go-amqp refuses the link
//     otherwise); Nagle is off (every round trip would cost ~40 ms).
// Not modelled: lock expiry and renewal, sessions, scheduled or deferred messages, the dead-letter
// subqueue, filters, management operations beyond peek, batches (format 0x80013700).
"use strict";
const crypto = require("crypto");
const rhea = require("rhea");
const Session = require("rhea/lib/session.js");

const port = Number(process.argv[2]);
const subscriptions = new Map(); // "topic/subscriptions/sub" (lower case) → {queue: [], locked: Map, receivers: Set}
for (const path of process.argv.slice(3)) {
  subscriptions.set(path.toLowerCase(), { queue: [], locked: new Map(), receivers: new Set() });
}
let sequence = 0;

// Echo the client's settle modes (and terminus) on the attach rhea sends back.
const onAttach = Session.prototype.on_attach;
Session.prototype.on_attach = function (frame) {
  const p = frame.performative;
  if (!this.links[p.name]) {
    const opts = { snd_settle_mode: p.snd_settle_mode, rcv_settle_mode: p.rcv_settle_mode, source: p.source, target: p.target, autosettle: false };
    if (p.role) this.create_sender(p.name, opts); // the peer receives: we send
    else this.create_receiver(p.name, Object.assign(opts, { autosettle: true }));
  }
  return onAttach.call(this, frame);
};

const container = rhea.create_container({ id: "servicebus-standin" });
container.sasl_server_mechanisms.enable_anonymous();

function address(terminus) {
  return terminus && terminus.address ? String(terminus.address) : "";
}

// Replies go on the link the client opened from node to its reply-to address.
function reply(connection, node, request, status, body) {
  for (const s of senders(connection)) {
    if (address(s.source) === node && (!request.reply_to || address(s.target) === request.reply_to)) {
      s.send({
        correlation_id: request.message_id,
        application_properties: { "status-code": rhea.types.wrap_int(status), "status-description": status === 204 ? "No Content" : "OK" },
        body: body,
      });
      return;
    }
  }
}

function senders(connection) {
  const out = [];
  for (const session of connection.local_channel_map ? Object.values(connection.local_channel_map) : []) {
    for (const l of Object.values(session.links)) if (l.is_sender()) out.push(l);
  }
  return out;
}

function subscriptionOf(path) {
  return subscriptions.get(path.toLowerCase());
}

function pump(sub) {
  for (const sender of sub.receivers) {
    while (sub.queue.length > 0 && sender.sendable()) {
      const item = sub.queue.shift();
      const tag = crypto.randomBytes(16);
      const now = Date.now();
      const msg = Object.assign({}, item.message, {
        delivery_count: item.deliveries,
        message_annotations: Object.assign({}, item.message.message_annotations, {
          "x-opt-sequence-number": rhea.types.wrap_long(item.sequence),
          "x-opt-enqueued-time": new Date(item.enqueued),
          "x-opt-locked-until": new Date(now + 60000),
        }),
      });
      const delivery = sender.send(msg, tag);
      sub.locked.set(delivery, { item, sender });
      item.deliveries++;
    }
  }
}

function requeue(sub, item, delay) {
  setTimeout(() => { sub.queue.push(item); pump(sub); }, delay);
}

function settle(context, outcome) {
  const delivery = context.delivery;
  for (const sub of subscriptions.values()) {
    const held = sub.locked.get(delivery);
    if (!held) continue;
    sub.locked.delete(delivery);
    if (outcome === "released") requeue(sub, held.item, 200);
    delivery.update(true); // settle our side: frees rhea's slot
    pump(sub);
    return;
  }
  delivery.update(true);
}

function dropLink(link) {
  for (const sub of subscriptions.values()) {
    if (!sub.receivers.delete(link)) continue;
    for (const [delivery, held] of sub.locked) {
      if (held.sender === link) {
        sub.locked.delete(delivery);
        requeue(sub, held.item, 0);
      }
    }
  }
}

container.on("sender_open", (context) => {
  const sub = subscriptionOf(address(context.sender.source));
  if (sub) {
    sub.receivers.add(context.sender);
    pump(sub);
  }
});
container.on("sendable", (context) => {
  const sub = subscriptionOf(address(context.sender.source));
  if (sub) pump(sub);
});
container.on("accepted", (context) => settle(context, "accepted"));
container.on("released", (context) => settle(context, "released")); // modified too (rhea's default)
container.on("rejected", (context) => settle(context, "rejected"));
container.on("sender_close", (context) => dropLink(context.sender));
container.on("connection_close", (context) => { for (const s of senders(context.connection)) dropLink(s); });
container.on("disconnected", (context) => { for (const s of senders(context.connection)) dropLink(s); });

container.on("message", (context) => {
  const target = address(context.receiver.target);
  const m = context.message;
  if (target === "$cbs") {
    reply(context.connection, "$cbs", m, 202, undefined);
    return;
  }
  if (target.toLowerCase().endsWith("/$management")) {
    const op = m.application_properties && m.application_properties.operation;
    if (op === "com.microsoft:peek-message") reply(context.connection, target, m, 204, undefined);
    else reply(context.connection, target, m, 200, {});
    return;
  }
  const prefix = target.toLowerCase() + "/subscriptions/";
  for (const [path, sub] of subscriptions) {
    if (path.startsWith(prefix)) {
      sub.queue.push({ message: { body: m.body, application_properties: m.application_properties, message_id: m.message_id, subject: m.subject, content_type: m.content_type }, sequence: ++sequence, enqueued: Date.now(), deliveries: 0 });
      pump(sub);
    }
  }
});

const server = container.listen({ port, host: "127.0.0.1" });
server.on("connection", (socket) => socket.setNoDelay(true));
server.on("listening", () => console.log(`servicebus-standin listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
