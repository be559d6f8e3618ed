#!/usr/bin/env node
// Service-level probes of svgateway's OPC UA server with node-opcua, driven by the Go end-to-end tests: the
// requests that crashed or fooled gopcua v0.8.0's server (writes, unknown namespaces, includeSubtypes=false,
// publishing interval 0, unknown monitored items, reused subscription ids, responses over 64 KiB, missing
// services) sent inside an activated session. Prints one JSON object per check:
//   {"check": NAME, "status": "<StatusCode name>", ...details}
// and last {"check": "alive", ...}: a new session reads --leaf after all of them. The Go test judges.
//
//   node probe.js --url URL --leaf NODEID --object NODEID --folder NODEID [--pki DIR] [--max-seconds 120]
"use strict";
const { flags, connect, exit } = require("./connect");
const {
  AttributeIds, DataType, BrowseDirection, makeBrowsePath, TimestampsToReturn, MonitoringMode,
  CreateSubscriptionRequest, DeleteSubscriptionsRequest, DeleteMonitoredItemsRequest, SetMonitoringModeRequest,
  CallRequest, HistoryReadRequest, ReadRawModifiedDetails,
} = require("node-opcua");

const o = flags({ leaf: "", object: "", folder: "", "max-seconds": 120 });
if (!o.leaf || !o.object || !o.folder) { console.error("--leaf --object --folder are required"); exit(2); }
function out(check, status, extra) { console.log(JSON.stringify({ check, status, ...extra })); }
const name = (e) => (e && e.response && e.response.responseHeader ? e.response.responseHeader.serviceResult.name : `error: ${String(e && e.message).split("\n")[0]}`);

// raw sends a request as is and returns the response (or the fault).
const raw = (session, req) => new Promise((res) => session.performMessageTransaction(req, (err, r) => res(err ? { fault: name(err) } : r)));
const svc = (r) => (r.fault ? r.fault : r.responseHeader.serviceResult.name);

async function run(check, f) {
  try { await f(); } catch (e) { out(check, name(e)); }
}

async function main() {
  const { client, session } = await connect(o);
  const writeValue = (nodeId, attributeId, dataType, value) => session.write({ nodeId, attributeId, value: { value: { dataType, value } } });

  await run("write-value", async () => {
    const before = await session.read({ nodeId: o.leaf, attributeId: AttributeIds.Value });
    const st = await writeValue(o.leaf, AttributeIds.Value, DataType.Double, -1);
    const after = await session.read({ nodeId: o.leaf, attributeId: AttributeIds.Value });
    out("write-value", st.name, { before: before.value.value, after: after.value.value });
  });
  await run("write-displayname", async () => out("write-displayname",
    (await writeValue(o.object, AttributeIds.DisplayName, DataType.LocalizedText, { text: "pwned" })).name));
  await run("write-bad-namespace", async () => out("write-bad-namespace", (await writeValue("ns=99;s=x", AttributeIds.Value, DataType.Double, 1)).name));
  await run("read-unknown-node", async () => out("read-unknown-node", (await session.read({ nodeId: "ns=2;s=NoSuchNode", attributeId: AttributeIds.Value })).statusCode.name));
  await run("read-bad-attribute", async () => out("read-bad-attribute", (await session.read({ nodeId: o.object, attributeId: AttributeIds.Value })).statusCode.name));
  await run("read-bad-index-range", async () => out("read-bad-index-range",
    (await session.read({ nodeId: o.leaf, attributeId: AttributeIds.Value, indexRange: "x:y" }).catch((e) => ({ statusCode: { name: name(e) } }))).statusCode.name));
  await run("browse-no-subtypes", async () => {
    const r = await session.browse({ nodeId: o.object, referenceTypeId: "HierarchicalReferences", includeSubtypes: false,
      browseDirection: BrowseDirection.Forward, resultMask: 63 });
    out("browse-no-subtypes", r.statusCode.name, { references: r.references.length });
  });
  await run("browse-maxrefs", async () => {
    const all = await session.browse({ nodeId: o.folder, referenceTypeId: "Organizes", browseDirection: BrowseDirection.Forward, resultMask: 63 });
    session.requestedMaxReferencesPerNode = 5;
    const b = await session.browse({ nodeId: o.folder, referenceTypeId: "Organizes", browseDirection: BrowseDirection.Forward, resultMask: 63 });
    let total = b.references.length, cp = b.continuationPoint, nexts = 0, status = b.statusCode.name;
    while (cp && cp.length && nexts < 1000) {
      const n = await session.browseNext(cp, false);
      nexts++; total += n.references.length; cp = n.continuationPoint;
      if (!n.statusCode.isGood()) { status = n.statusCode.name; break; }
    }
    session.requestedMaxReferencesPerNode = 0;
    out("browse-maxrefs", status, { first: b.references.length, browseNext: nexts, total, all: all.references.length });
  });
  await run("browse-next-bogus", async () => out("browse-next-bogus", (await session.browseNext([Buffer.from("bogus-cp")], false))[0].statusCode.name));
  await run("translate", async () => {
    const t = await session.translateBrowsePath(makeBrowsePath("i=85", "/2:SmartView/2:Gateway"));
    out("translate", t.statusCode.name, { targets: (t.targets || []).map((x) => x.targetId.toString()) });
  });
  await run("publishing-interval-0", async () => {
    const r = await raw(session, new CreateSubscriptionRequest({ requestedPublishingInterval: 0, requestedLifetimeCount: 60,
      requestedMaxKeepAliveCount: 10, publishingEnabled: true }));
    out("publishing-interval-0", svc(r), { revised: r.revisedPublishingInterval, id: r.subscriptionId });
    if (r.subscriptionId) await raw(session, new DeleteSubscriptionsRequest({ subscriptionIds: [r.subscriptionId] }));
  });
  await run("subscription-services", async () => {
    const sub = await session.createSubscription2({ requestedPublishingInterval: 100, requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 10, publishingEnabled: true });
    let modify = "Good", mode = "Good";
    try { await sub.modify({ requestedPublishingInterval: 200 }); } catch (e) { modify = name(e); }
    try { await sub.setPublishingMode(false); } catch (e) { mode = name(e); }
    out("modify-subscription", modify, { revised: sub.publishingInterval });
    out("set-publishing-mode", mode);
    const mi = await sub.monitorItems([{ nodeId: "ns=2;s=NoSuchNode", attributeId: AttributeIds.Value }, { nodeId: o.leaf, attributeId: AttributeIds.Value }],
      { samplingInterval: 100, queueSize: 1 }, TimestampsToReturn.Both);
    out("monitor-unknown-node", mi.monitoredItems[0].statusCode.name);
    const del = await raw(session, new DeleteMonitoredItemsRequest({ subscriptionId: sub.subscriptionId, monitoredItemIds: [987654] }));
    out("delete-unknown-item", del.results ? del.results[0].name : svc(del));
    const mode2 = await raw(session, new SetMonitoringModeRequest({ subscriptionId: sub.subscriptionId, monitoringMode: MonitoringMode.Disabled, monitoredItemIds: [987654] }));
    out("set-mode-unknown-item", mode2.results ? mode2.results[0].name : svc(mode2));
    const delSub = await raw(session, new DeleteMonitoredItemsRequest({ subscriptionId: 987654, monitoredItemIds: [1] }));
    out("delete-item-unknown-subscription", svc(delSub));
    await sub.terminate();
  });
  await run("subscription-ids", async () => {
    const mk = async () => (await raw(session, new CreateSubscriptionRequest({ requestedPublishingInterval: 500,
      requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 10, publishingEnabled: true }))).subscriptionId;
    const a = await mk(), b = await mk();
    await raw(session, new DeleteSubscriptionsRequest({ subscriptionIds: [a] }));
    const c = await mk();
    await raw(session, new DeleteSubscriptionsRequest({ subscriptionIds: [b, c] }));
    out("subscription-ids", "Good", { a, b, c });
  });
  await run("read-10000", async () => {
    const r = await session.read(Array.from({ length: 10000 }, () => ({ nodeId: o.leaf, attributeId: AttributeIds.Value })));
    out("read-10000", "Good", { good: r.filter((d) => d.statusCode.isGood()).length });
  });
  await run("read-10001", async () => out("read-10001",
    (await session.read(Array.from({ length: 10001 }, () => ({ nodeId: o.leaf, attributeId: AttributeIds.Value })))).length ? "Good" : "?"));
  await run("browse-1000", async () => { // a response of some 400 KB: chunked
    const r = await session.browse(Array.from({ length: 1000 }, () => ({ nodeId: o.leaf, browseDirection: BrowseDirection.Both, resultMask: 63 })));
    out("browse-1000", "Good", { good: r.filter((x) => x.statusCode.isGood()).length, references: r.reduce((n, x) => n + x.references.length, 0) });
  });
  await run("browse-1001", async () => out("browse-1001",
    (await session.browse(Array.from({ length: 1001 }, () => ({ nodeId: o.object, browseDirection: BrowseDirection.Both, resultMask: 63 })))).length ? "Good" : "?"));
  await run("call", async () => {
    const r = await raw(session, new CallRequest({ methodsToCall: [{ objectId: "i=2253", methodId: "i=11492", inputArguments: [] }] }));
    out("call", r.results ? r.results[0].statusCode.name : svc(r));
  });
  await run("history-read", async () => {
    const r = await raw(session, new HistoryReadRequest({ timestampsToReturn: TimestampsToReturn.Source, historyReadDetails: new ReadRawModifiedDetails({}), nodesToRead: [{ nodeId: o.leaf }] }));
    out("history-read", r.results ? r.results[0].statusCode.name : svc(r));
  });
  await session.close();
  await client.disconnect();

  const fresh = await connect(o);
  const v = await fresh.session.read({ nodeId: o.leaf, attributeId: AttributeIds.Value });
  out("alive", v.statusCode.name, { value: v.value.value });
  await fresh.session.close();
  await fresh.client.disconnect();
  exit(0);
}

main().catch((e) => { out("probe", name(e)); exit(1); });
