#!/usr/bin/env node
// node-opcua client for svgateway's history end-to-end test (test/opcua_history_test.go):
// HistoryRead of raw values as a historian does it, continuation points included, and the bad
// input a server must refuse with a specific status while it keeps serving. Prints one JSON
// object per line: {"step": ..., ...}. Exits 0 once the steps ran (the Go test judges the
// lines), 2 on a usage error, 3 when the watchdog fires.
//
//   node history.js --url opc.tcp://127.0.0.1:PORT --pki DIR --node NODEID --plain NODEID [--max-seconds S]
//
// --node is a variable with history, --plain one without.
"use strict";
const {
  OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, AttributeIds,
  HistoryReadRequest, ReadRawModifiedDetails, ReadProcessedDetails, TimestampsToReturn,
} = require("node-opcua");

function parse(argv) {
  const o = { url: "", pki: "", node: "", plain: "", "max-seconds": 60 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
    const v = argv[++i];
    o[k] = typeof o[k] === "number" ? Number(v) : v;
  }
  if (!o.url || !o.pki || !o.node || !o.plain) { console.error("--url, --pki, --node and --plain are required"); process.exit(2); }
  return o;
}

const o = parse(process.argv);
setTimeout(() => { out({ step: "watchdog", error: `${o["max-seconds"]}s expired` }); process.exit(3); }, o["max-seconds"] * 1000).unref();
function out(obj) { console.log(JSON.stringify(obj)); }
const errText = (e) => String((e && e.message) || e).split("\n")[0];

const early = new Date("2000-01-01T00:00:00Z");
const late = new Date("2100-01-01T00:00:00Z");

function values(result) {
  const dvs = (result.historyData && result.historyData.dataValues) || [];
  return dvs.map((dv) => ({
    v: dv.value && dv.value.value !== undefined ? dv.value.value : null,
    src: dv.sourceTimestamp ? dv.sourceTimestamp.toISOString() : null,
    status: dv.statusCode.name,
  }));
}

async function historyRead(session, details, nodes, opts = {}) {
  const req = new HistoryReadRequest({
    historyReadDetails: details,
    timestampsToReturn: opts.timestamps === undefined ? TimestampsToReturn.Both : opts.timestamps,
    releaseContinuationPoints: !!opts.release,
    nodesToRead: nodes,
  });
  const resp = await session.historyRead(req);
  return resp.results;
}

const raw = (startTime, endTime, numValuesPerNode, extra = {}) =>
  new ReadRawModifiedDetails({ isReadModified: false, startTime, endTime, numValuesPerNode, returnBounds: false, ...extra });

async function main() {
  const client = OPCUAClient.create({
    applicationName: "svgateway-history-test",
    endpointMustExist: false,
    securityPolicy: SecurityPolicy.None, securityMode: MessageSecurityMode.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: false,
    defaultTransactionTimeout: 20000,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }),
  });
  await client.connect(o.url);
  const session = await client.createSession();
  const step = async (name, f) => {
    try { out({ step: name, ...(await f()) }); } catch (e) { out({ step: name, error: errText(e) }); }
  };

  await step("attributes", async () => {
    const ids = [AttributeIds.Historizing, AttributeIds.AccessLevel, AttributeIds.UserAccessLevel];
    const read = async (nodeId) => (await session.read(ids.map((attributeId) => ({ nodeId, attributeId })))).map((dv) => dv.value.value);
    return { node: await read(o.node), plain: await read(o.plain) };
  });

  // Everything recorded, in one read (a range of a century: the server pages if it must).
  await step("full", async () => {
    const [r] = await historyRead(session, raw(early, late, 0), [{ nodeId: o.node }]);
    return { status: r.statusCode.name, cp: !!(r.continuationPoint && r.continuationPoint.length), values: values(r) };
  });

  // The same, three values at a time through continuation points.
  await step("paged", async () => {
    let [r] = await historyRead(session, raw(early, late, 3), [{ nodeId: o.node }]);
    const all = values(r);
    const statuses = [r.statusCode.name];
    let pages = 1, maxPage = all.length;
    while (r.continuationPoint && r.continuationPoint.length && pages < 1000) {
      [r] = await historyRead(session, raw(early, late, 3), [{ nodeId: o.node, continuationPoint: r.continuationPoint }]);
      const page = values(r);
      maxPage = Math.max(maxPage, page.length);
      all.push(...page);
      statuses.push(r.statusCode.name);
      pages++;
    }
    return { pages, maxPage, values: all, statuses: [...new Set(statuses)] };
  });

  // Inverted range: Part 11 reads it newest first.
  await step("inverted", async () => {
    const [r] = await historyRead(session, raw(late, early, 0), [{ nodeId: o.node }]);
    return { status: r.statusCode.name, values: values(r) };
  });

  // A continuation point the server never issued.
  await step("forged", async () => {
    const [r] = await historyRead(session, raw(early, late, 3), [{ nodeId: o.node, continuationPoint: Buffer.from("forged-cp-0123456789") }]);
    return { status: r.statusCode.name };
  });

  // Release: the continuation point is gone afterwards.
  await step("release", async () => {
    const [first] = await historyRead(session, raw(early, late, 1), [{ nodeId: o.node }]);
    const cp = first.continuationPoint;
    const [rel] = await historyRead(session, raw(early, late, 1), [{ nodeId: o.node, continuationPoint: cp }], { release: true });
    const [after] = await historyRead(session, raw(early, late, 1), [{ nodeId: o.node, continuationPoint: cp }]);
    return { issued: !!(cp && cp.length), released: rel.statusCode.name, after: after.statusCode.name };
  });

  await step("modified", async () => {
    const [r] = await historyRead(session, raw(early, late, 0, { isReadModified: true }), [{ nodeId: o.node }]);
    return { status: r.statusCode.name };
  });
  await step("processed", async () => {
    const details = new ReadProcessedDetails({ startTime: early, endTime: late, processingInterval: 60000, aggregateType: ["i=2342"] });
    const [r] = await historyRead(session, details, [{ nodeId: o.node }]);
    return { status: r.statusCode.name };
  });
  await step("no-range", async () => {
    const [r] = await historyRead(session, raw(null, null, 0), [{ nodeId: o.node }]);
    return { status: r.statusCode.name };
  });
  await step("plain", async () => {
    const [r] = await historyRead(session, raw(early, late, 0), [{ nodeId: o.plain }]);
    return { status: r.statusCode.name };
  });
  await step("unknown", async () => {
    const [r] = await historyRead(session, raw(early, late, 0), [{ nodeId: "ns=2;s=NO/SUCH/NODE" }]);
    return { status: r.statusCode.name };
  });
  await step("neither", async () => {
    try {
      await historyRead(session, raw(early, late, 0), [{ nodeId: o.node }], { timestamps: TimestampsToReturn.Neither });
      return { status: "Good" };
    } catch (e) {
      return { status: errText(e) };
    }
  });

  // After all that, the server still answers on the same session.
  await step("after", async () => {
    const [r] = await historyRead(session, raw(early, late, 0), [{ nodeId: o.node }]);
    return { status: r.statusCode.name, n: values(r).length };
  });

  await session.close();
  await client.disconnect();
}

main().then(() => process.exit(0), (e) => { out({ step: "fatal", error: errText(e) }); process.exit(1); });
