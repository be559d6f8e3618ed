#!/usr/bin/env node
// node-opcua crawler driven by svgateway's tests and benchmarks: browses everything below --start (forward
// HierarchicalReferences with subtypes, BrowseNext for continuation points), then reads Value and DataType of
// every variable in chunks of the server's MaxNodesPerRead. Prints JSON lines:
//   {"var": NODEID, "status": "Good", "value": ..., "dataType": "ns=0;i=11", "src": ISO|null, "variant": "Double"}   (with --dump)
//   {"summary": true, "nodes": N, "variables": V, "browseCalls": .., "browseNextCalls": .., "continuationPoints": ..,
//    "badBrowse": .., "badValues": .., "badDataTypes": .., "dataTypeNotNodeId": .., "browse_s": .., "read_s": ..}
// Exit 0 once done (the caller judges), 2 usage, 3 watchdog, 4 with --strict when anything was not Good.
//
//   node crawl.js --url opc.tcp://127.0.0.1:PORT [--pki DIR] [--security None|Basic256Sha256:SignAndEncrypt]
//        [--user name:password] [--start ns=2;s=SmartView] [--max-refs 100] [--browse-batch 100] [--dump] [--strict]
//        [--max-seconds 300] [--max-nodes N]
// --max-nodes bounds the browse (it stops once N nodes are known, then reads the variables found so far) so that a
// crawl of a very large tree still gives a rate; the summary then says "bounded": true.
"use strict";
const { flags, connect, exit } = require("./connect");
const { AttributeIds, BrowseDirection, NodeClass, DataType, resolveNodeId } = require("node-opcua");

const o = flags({ start: "ns=2;s=SmartView", "max-refs": 100, "browse-batch": 100, dump: false, strict: false,
  "max-nodes": 0 });

// json turns a Variant's value into plain JSON (dates as ISO strings, EUInformation and Range as objects).
function json(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v, json);
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object") {
    if (v.unitId !== undefined && v.displayName) return { unitId: v.unitId, displayName: v.displayName.text, namespaceUri: v.namespaceUri };
    if (v.low !== undefined && v.high !== undefined) return { low: v.low, high: v.high };
    if (v.text !== undefined) return v.text;
    if (v.name !== undefined && v.namespaceIndex !== undefined) return `${v.namespaceIndex}:${v.name}`;
    return String(v);
  }
  return v;
}

async function limit(session, id) {
  try {
    const dv = await session.read({ nodeId: id, attributeId: AttributeIds.Value });
    return dv.statusCode.isGood() ? Number(dv.value.value) || 0 : 0;
  } catch { return 0; }
}

async function main() {
  const { client, session } = await connect(o);
  const maxRead = (await limit(session, "i=11705")) || 1000;
  const maxBrowse = (await limit(session, "i=11710")) || 100;
  const batch = Math.min(o["browse-batch"], maxBrowse);
  session.requestedMaxReferencesPerNode = o["max-refs"];
  const s = { nodes: 0, variables: 0, browseCalls: 0, browseNextCalls: 0, continuationPoints: 0, badBrowse: 0,
    badValues: 0, badDataTypes: 0, dataTypeNotNodeId: 0, errors: [] };
  const seen = new Set([o.start]);
  const vars = [];
  const queue = [o.start];
  const hier = resolveNodeId("HierarchicalReferences");
  const add = (refs) => {
    for (const r of refs || []) {
      const id = r.nodeId.toString();
      if (seen.has(id)) continue;
      seen.add(id);
      queue.push(id);
      if (r.nodeClass === NodeClass.Variable) vars.push(id);
    }
  };
  const t0 = Date.now();
  const bounded = () => o["max-nodes"] > 0 && seen.size >= o["max-nodes"];
  while (queue.length && !bounded()) {
    const ids = queue.splice(0, batch);
    s.browseCalls++;
    const results = await session.browse(ids.map((nodeId) => ({ nodeId, referenceTypeId: hier, includeSubtypes: true,
      browseDirection: BrowseDirection.Forward, nodeClassMask: 0, resultMask: 63 })));
    let cps = [];
    for (const r of results) {
      if (!r.statusCode.isGood()) { s.badBrowse++; if (s.errors.length < 10) s.errors.push(`browse ${r.statusCode.name}`); continue; }
      add(r.references);
      if (r.continuationPoint && r.continuationPoint.length) cps.push(r.continuationPoint);
    }
    for (let rounds = 0; cps.length && rounds < 100000; rounds++) {
      s.continuationPoints += cps.length;
      s.browseNextCalls++;
      const next = await session.browseNext(cps, false);
      cps = [];
      for (const r of next) {
        if (!r.statusCode.isGood()) { s.badBrowse++; if (s.errors.length < 10) s.errors.push(`browseNext ${r.statusCode.name}`); continue; }
        add(r.references);
        if (r.continuationPoint && r.continuationPoint.length) cps.push(r.continuationPoint);
      }
    }
  }
  const t1 = Date.now();
  s.bounded = bounded();
  s.nodes = seen.size;
  s.variables = vars.length;
  const toRead = vars.flatMap((nodeId) => [{ nodeId, attributeId: AttributeIds.Value }, { nodeId, attributeId: AttributeIds.DataType }]);
  const step = Math.max(2, maxRead - (maxRead % 2));
  for (let i = 0; i < toRead.length; i += step) {
    const dvs = await session.read(toRead.slice(i, i + step));
    for (let k = 0; k < dvs.length; k += 2) {
      const [v, dt] = [dvs[k], dvs[k + 1]];
      if (!v.statusCode.isGood()) s.badValues++;
      if (!dt.statusCode.isGood()) s.badDataTypes++;
      else if (dt.value.dataType !== DataType.NodeId) s.dataTypeNotNodeId++;
      if (o.dump) {
        const t = v.value.dataType;
        const value = t === DataType.UInt64 || t === DataType.Int64 ? v.value.value[0] * 4294967296 + v.value.value[1] : json(v.value.value);
        console.log(JSON.stringify({ var: toRead[i + k].nodeId, status: v.statusCode.name, value,
          variant: DataType[v.value.dataType], dataType: dt.value.value ? dt.value.value.toString() : null,
          src: v.sourceTimestamp ? v.sourceTimestamp.toISOString() : null }));
      }
    }
  }
  const t2 = Date.now();
  await session.close();
  await client.disconnect();
  console.log(JSON.stringify({ summary: true, ...s, browse_s: (t1 - t0) / 1000, read_s: (t2 - t1) / 1000 }));
  exit(o.strict && (s.badBrowse || s.badValues || s.badDataTypes || s.dataTypeNotNodeId) ? 4 : 0);
}

main().catch((e) => { console.log(JSON.stringify({ error: String(e.message).split("\n")[0] })); exit(1); });
