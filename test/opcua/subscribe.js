#!/usr/bin/env node
// node-opcua subscriber driven by svgateway's tests and benchmarks: one subscription with monitored items on
// --nodes, or on the first --items changing readings found below --start (KVA, Amps, Temperature, Humidity,
// PercentOfContract, PrimaryKVA, RedundantKVA, PeakKVA7d and tag variables). Prints JSON lines:
//   {"created": N, "ok": K, "bad": {STATUS: n}, "revisedPublishingInterval": ms}   once the items exist
//   {"ready": true, "initial": I}                                                    once every item reported once
//   {"id": NODEID, "value": .., "status": "Good", "src": ISO|null}                  per notification with --events
//   {"summary": true, "updates": U, "rate_per_s": R, "lat_p50_ms": .., "lat_p99_ms": .., "lat_max_ms": .., ...}
// Latency is receive time minus SourceTimestamp of every notification after the initial ones (same host clock).
// Runs --seconds after ready, or until stdin closes with --stdin; then deletes the subscription and closes.
//
//   node subscribe.js --url URL [--pki DIR] [--security ..] [--user u:p] [--nodes id,id | --start ID --items N]
//        [--interval 100] [--sampling 0] [--queue 1] [--deadband-percent P] [--seconds 10] [--stdin] [--events] [--max-seconds 300]
"use strict";
const { flags, connect, exit } = require("./connect");
const { AttributeIds, BrowseDirection, NodeClass, TimestampsToReturn, resolveNodeId, DataChangeFilter, DataChangeTrigger,
  DeadbandType } = require("node-opcua");

const o = flags({ nodes: "", start: "ns=2;s=SmartView", items: 1000, interval: 100, sampling: 0, queue: 1, seconds: 10, "deadband-percent": 0,
  stdin: false, events: false });
const out = (x) => console.log(JSON.stringify(x));
const READINGS = new Set(["KVA", "Amps", "Temperature", "Humidity", "PercentOfContract", "PrimaryKVA", "RedundantKVA", "PeakKVA7d"]);

// readings finds up to n changing readings below start (breadth first, bounded).
async function readings(session, start, n) {
  const found = [], queue = [start], seen = new Set([start]);
  const hier = resolveNodeId("HierarchicalReferences");
  session.requestedMaxReferencesPerNode = 1000;
  for (let calls = 0; queue.length && found.length < n && calls < 100000; calls++) {
    const ids = queue.splice(0, 100);
    const results = await session.browse(ids.map((nodeId) => ({ nodeId, referenceTypeId: hier, includeSubtypes: true,
      browseDirection: BrowseDirection.Forward, resultMask: 63 })));
    for (const r of results) {
      for (const ref of r.references || []) {
        const id = ref.nodeId.toString();
        if (seen.has(id)) continue;
        seen.add(id);
        if (ref.nodeClass === NodeClass.Object) queue.push(id);
        else if (ref.nodeClass === NodeClass.Variable && (READINGS.has(ref.browseName.name) || /\/TAG\/[^#]*$/.test(id))) found.push(id);
      }
      if (r.continuationPoint && r.continuationPoint.length) await session.browseNext([r.continuationPoint], true);
    }
  }
  return found.slice(0, n);
}

const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : null);

async function main() {
  const { client, session } = await connect(o);
  const ids = o.nodes ? o.nodes.split(",") : await readings(session, o.start, o.items);
  const sub = await session.createSubscription2({ requestedPublishingInterval: o.interval, requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  let keepalives = 0, errors = 0;
  sub.on("keepalive", () => keepalives++);
  sub.on("error", () => errors++);
  const group = await sub.monitorItems(ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: o.sampling, discardOldest: true, queueSize: o.queue, ...(o["deadband-percent"] > 0 ? { filter: new DataChangeFilter({
      trigger: DataChangeTrigger.StatusValue, deadbandType: DeadbandType.Percent, deadbandValue: o["deadband-percent"] }) } : {}) },
    TimestampsToReturn.Both);
  const bad = {};
  let ok = 0;
  for (const m of group.monitoredItems) {
    if (m.statusCode && m.statusCode.isGood()) ok++;
    else { const s = m.statusCode ? m.statusCode.name : "none"; bad[s] = (bad[s] || 0) + 1; }
  }
  out({ created: ids.length, ok, bad, revisedPublishingInterval: sub.publishingInterval });
  const seen = new Uint8Array(ids.length), lat = [];
  let initial = 0, updates = 0, measuring = false, t0 = 0;
  let readyResolve;
  const ready = new Promise((r) => { readyResolve = r; });
  group.on("changed", (_item, dv, i) => {
    const now = Date.now();
    if (o.events) {
      const v = dv.value.value;
      out({ id: ids[i], value: v instanceof Date ? v.toISOString() : v, status: dv.statusCode.name,
        src: dv.sourceTimestamp ? dv.sourceTimestamp.toISOString() : null });
    }
    if (!seen[i]) { seen[i] = 1; if (++initial === ok) readyResolve(); return; }
    if (!measuring) return;
    updates++;
    if (dv.sourceTimestamp) lat.push(now - dv.sourceTimestamp.getTime());
  });
  if (ok === 0) readyResolve();
  await Promise.race([ready, new Promise((r) => setTimeout(r, 30000))]);
  out({ ready: true, initial });
  measuring = true;
  t0 = Date.now();
  if (o.stdin) {
    await new Promise((r) => { process.stdin.on("end", r); process.stdin.on("close", r); process.stdin.resume(); });
  } else {
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
  }
  measuring = false;
  const secs = (Date.now() - t0) / 1000;
  try { await sub.terminate(); } catch (e) { errors++; }
  await session.close();
  await client.disconnect();
  lat.sort((a, b) => a - b);
  out({ summary: true, items: ids.length, created_ok: ok, initial, updates, rate_per_s: +(updates / secs).toFixed(1),
    lat_min_ms: lat.length ? lat[0] : null, lat_p10_ms: pct(lat, 10),
    lat_p50_ms: pct(lat, 50), lat_p99_ms: pct(lat, 99), lat_max_ms: lat.length ? lat[lat.length - 1] : null, keepalives, errors });
  exit(0);
}

main().catch((e) => { out({ error: String(e.message).split("\n")[0] }); exit(1); });
