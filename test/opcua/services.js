#!/usr/bin/env node
// node-opcua checks of the subscription services a reconnecting SCADA client relies on, driven by the Go
// end-to-end tests (services_test.go): TransferSubscriptions (from an open session, to another user's session,
// from a session closed without deleting its subscriptions) and SetTriggering. Requests are sent raw
// (performMessageTransaction), so node-opcua's own publish engine does not interfere. Prints one JSON object per
// check: {"check": NAME, "status": "<StatusCode name>", ...details}; last {"check": "alive", ...}.
//
// The anonymous sessions use --security (anonymous transfers need Sign or SignAndEncrypt), one more SecurityPolicy None.
//
//   node services.js --url URL --leaf NODEID --user NAME:PASSWORD --security Basic256Sha256:SignAndEncrypt [--pki DIR]
"use strict";
const { flags, connect, exit } = require("./connect");
const {
  AttributeIds, TimestampsToReturn, MonitoringMode, CreateSubscriptionRequest, CreateMonitoredItemsRequest,
  PublishRequest, TransferSubscriptionsRequest, SetTriggeringRequest, DeleteSubscriptionsRequest,
} = require("node-opcua");

const o = flags({ leaf: "", "max-seconds": 120 });
if (!o.leaf || !o.user) { console.error("--leaf and --user are required"); exit(2); }
const user = o.user;
o.user = "";
const out = (check, status, extra) => console.log(JSON.stringify({ check, status, ...extra }));
const name = (e) => (e && e.response && e.response.responseHeader ? e.response.responseHeader.serviceResult.name : `error: ${String(e && e.message).split("\n")[0]}`);
const raw = (session, req) => new Promise((res) => session.performMessageTransaction(req, (err, r) => res(err ? { fault: name(err) } : r)));
const svc = (r) => (r.fault ? r.fault : r.responseHeader.serviceResult.name);
const CURRENT_TIME = "i=2258";

async function subscription(session, items) {
  const s = await raw(session, new CreateSubscriptionRequest({ requestedPublishingInterval: 100, requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 10, publishingEnabled: true }));
  const m = await raw(session, new CreateMonitoredItemsRequest({ subscriptionId: s.subscriptionId, timestampsToReturn: TimestampsToReturn.Both,
    itemsToCreate: items.map(([nodeId, mode], i) => ({ itemToMonitor: { nodeId, attributeId: AttributeIds.Value }, monitoringMode: mode,
      requestedParameters: { clientHandle: i + 1, samplingInterval: 100, queueSize: 1, discardOldest: true } })) }));
  return { id: s.subscriptionId, items: m.results.map((r) => r.monitoredItemId), status: m.results.map((r) => r.statusCode.name) };
}

// publish sends one Publish and summarises the answer: the data change handles and values, status changes.
async function publish(session, acks = []) {
  const r = await raw(session, new PublishRequest({ subscriptionAcknowledgements: acks, requestHeader: { timeoutHint: 30000 } }));
  if (r.fault) return { fault: r.fault };
  const res = { sub: r.subscriptionId, seq: r.notificationMessage.sequenceNumber, handles: [], values: {}, statusChange: null };
  for (const d of r.notificationMessage.notificationData || []) {
    if (d.monitoredItems) for (const mi of d.monitoredItems) { res.handles.push(mi.clientHandle); res.values[mi.clientHandle] = mi.value.value.value; }
    if (d.status !== undefined) res.statusChange = d.status.name;
  }
  return res;
}

// until publishes (acknowledging) until ok(result) or n answers.
async function until(session, n, ok) {
  let acks = [];
  for (let i = 0; i < n; i++) {
    const r = await publish(session, acks);
    if (r.fault) return r;
    acks = r.handles.length ? [{ subscriptionId: r.sub, sequenceNumber: r.seq }] : [];
    if (ok(r)) return r;
  }
  return null;
}

async function main() {
  const a = await connect(o);
  const b = await connect(o);
  const other = await connect({ ...o, security: "Basic256Sha256:SignAndEncrypt", user });

  // TransferSubscriptions from an open session (its channel "lost"): the old session is told, the new one gets data.
  const s = await subscription(a.session, [[o.leaf, MonitoringMode.Reporting], [CURRENT_TIME, MonitoringMode.Reporting]]);
  const first = await until(a.session, 20, (r) => r.handles.includes(1));
  out("before-transfer", first ? "Good" : "none", { leaf: first && first.values[1] });
  const told = publish(a.session); // parked on the old session
  const t = await raw(b.session, new TransferSubscriptionsRequest({ subscriptionIds: [s.id, 987654], sendInitialValues: true }));
  out("transfer", svc(t), { results: (t.results || []).map((x) => x.statusCode.name) });
  const oldSide = await told;
  out("transfer-old-session", oldSide.statusChange || oldSide.fault || "none", { sub: oldSide.sub, expect: s.id });
  const initial = await until(b.session, 20, (r) => r.handles.includes(1));
  out("transfer-initial", initial ? "Good" : "none", { sub: initial && initial.sub, leaf: initial && initial.values[1] });
  const t1 = initial && initial.values[2];
  const live = await until(b.session, 20, (r) => r.handles.includes(2) && String(r.values[2]) !== String(t1));
  out("transfer-live", live ? "Good" : "none");

  // Another user may not take it, nor an anonymous session without signing; the owner keeps it.
  const denied = await raw(other.session, new TransferSubscriptionsRequest({ subscriptionIds: [s.id], sendInitialValues: false }));
  out("transfer-other-user", denied.results ? denied.results[0].statusCode.name : svc(denied));
  const unsigned = await connect({ ...o, security: "None" });
  const deniedNone = await raw(unsigned.session, new TransferSubscriptionsRequest({ subscriptionIds: [s.id], sendInitialValues: false }));
  out("transfer-unsigned-anonymous", deniedNone.results ? deniedNone.results[0].statusCode.name : svc(deniedNone));
  await unsigned.session.close(); await unsigned.client.disconnect();
  const kept = await until(b.session, 20, (r) => r.handles.includes(2));
  out("owner-keeps", kept ? "Good" : "none", { sub: kept && kept.sub });
  out("transfer-empty", svc(await raw(b.session, new TransferSubscriptionsRequest({ subscriptionIds: [], sendInitialValues: false }))));

  // Closed without deleting its subscriptions: a new session takes them and gets data.
  await b.session.close(false);
  const c = await connect(o);
  const t2 = await raw(c.session, new TransferSubscriptionsRequest({ subscriptionIds: [s.id], sendInitialValues: true }));
  out("transfer-after-close", t2.results ? t2.results[0].statusCode.name : svc(t2));
  const after = await until(c.session, 20, (r) => r.handles.includes(1));
  out("transfer-after-close-data", after ? "Good" : "none", { leaf: after && after.values[1] });
  await raw(c.session, new DeleteSubscriptionsRequest({ subscriptionIds: [s.id] }));

  // A session that times out (its client silent past the server's minimum session timeout, 10 s) keeps its subscription.
  const d = await connect({ ...o, "session-timeout": 1000 });
  const ds = await subscription(d.session, [[o.leaf, MonitoringMode.Reporting]]);
  await new Promise((r) => setTimeout(r, 13000));
  const e = await connect(o);
  // (not a read on the old session: node-opcua would recreate it) the server's SessionTimeoutCount
  const timeouts = await e.session.read({ nodeId: "i=2281", attributeId: AttributeIds.Value });
  out("session-timed-out", timeouts.value.value === 1 ? "Good" : "none", { sessionTimeoutCount: timeouts.value.value });
  const t3 = await raw(e.session, new TransferSubscriptionsRequest({ subscriptionIds: [ds.id], sendInitialValues: true }));
  out("transfer-after-timeout", t3.results ? t3.results[0].statusCode.name : svc(t3));
  const afterTimeout = await until(e.session, 20, (r) => r.handles.includes(1));
  out("transfer-after-timeout-data", afterTimeout ? "Good" : "none", { sub: afterTimeout && afterTimeout.sub, expect: ds.id });
  await raw(e.session, new DeleteSubscriptionsRequest({ subscriptionIds: [ds.id] }));
  await e.session.close(); await e.client.disconnect();
  await d.client.disconnect().catch(() => {});

  // SetTriggering: the leaf in Sampling mode reports only once linked to the clock in Reporting mode.
  const g = await subscription(c.session, [[CURRENT_TIME, MonitoringMode.Reporting], [o.leaf, MonitoringMode.Sampling]]);
  const [trig, linked] = g.items;
  const unlinked = await until(c.session, 5, (r) => r.handles.includes(2));
  out("sampling-unlinked", unlinked ? "reported" : "silent");
  const st = await raw(c.session, new SetTriggeringRequest({ subscriptionId: g.id, triggeringItemId: trig, linksToAdd: [linked, 999999], linksToRemove: [424242] }));
  out("set-triggering", svc(st), { add: (st.addResults || []).map((x) => x.name), remove: (st.removeResults || []).map((x) => x.name) });
  const triggered = await until(c.session, 20, (r) => r.handles.includes(2));
  out("triggered", triggered ? "Good" : "none", { leaf: triggered && triggered.values[2] });
  const rm = await raw(c.session, new SetTriggeringRequest({ subscriptionId: g.id, triggeringItemId: trig, linksToAdd: [], linksToRemove: [linked] }));
  out("set-triggering-remove", svc(rm), { remove: (rm.removeResults || []).map((x) => x.name) });
  out("set-triggering-unknown-item", svc(await raw(c.session, new SetTriggeringRequest({ subscriptionId: g.id, triggeringItemId: 999999, linksToAdd: [linked], linksToRemove: [] }))));
  out("set-triggering-unknown-subscription", svc(await raw(c.session, new SetTriggeringRequest({ subscriptionId: 987654, triggeringItemId: trig, linksToAdd: [linked], linksToRemove: [] }))));
  out("set-triggering-nothing", svc(await raw(c.session, new SetTriggeringRequest({ subscriptionId: g.id, triggeringItemId: trig, linksToAdd: [], linksToRemove: [] }))));
  await raw(c.session, new DeleteSubscriptionsRequest({ subscriptionIds: [g.id] }));

  for (const x of [a, c, other]) { await x.session.close().catch(() => {}); await x.client.disconnect(); }
  await b.client.disconnect();
  const fresh = await connect(o);
  const v = await fresh.session.read({ nodeId: o.leaf, attributeId: AttributeIds.Value });
  out("alive", v.statusCode.name, { value: v.value.value });
  await fresh.session.close();
  await fresh.client.disconnect();
  exit(0);
}

main().catch((e) => { out("services", name(e), { stack: String(e && e.stack).split("\n").slice(0, 3).join(" | ") }); exit(1); });
