#!/usr/bin/env node
// A client that asks for answers of at most --max-message-size bytes browses --nodes copies of --folder with
// --per-node references per node, the way a crawler does: a Browse refused as too large (Bad_ResponseTooLarge) is
// asked again in halves, and every continuation point is followed with BrowseNext (halved the same way) until
// the folder's references are all in. Driven by browse_retry_test.go; prints one JSON object per check:
//   {"check": NAME, "status": "<StatusCode name>", ...details}
//   refused:  the first Browse of --nodes nodes                    (its fault)
//   browse:   the Browse that fitted: nodes, statuses of its results and how many carried a continuation point
//   complete: references collected per node, and the folder's own count (one Browse without a limit)
//
//   node browse-retry.js --url URL --folder NODEID [--nodes 100] [--per-node 5] [--max-message-size 32768]
"use strict";
const { flags, exit } = require("./connect");
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, BrowseRequest, BrowseNextRequest, BrowseDirection } = require("node-opcua");

const o = flags({ folder: "", nodes: 100, "per-node": 5, "max-message-size": 32768, "max-seconds": 120 });
if (!o.folder) { console.error("--folder is required"); exit(2); }
const out = (check, status, extra) => console.log(JSON.stringify({ check, status, ...extra }));
const name = (e) => (e && e.response && e.response.responseHeader ? e.response.responseHeader.serviceResult.name : `error: ${String(e && e.message).split("\n")[0]}`);
const raw = (session, req) => new Promise((res) => session.performMessageTransaction(req, (err, r) => res(err ? { fault: name(err) } : r)));

const describe = () => ({ nodeId: o.folder, browseDirection: BrowseDirection.Forward, referenceTypeId: "i=35", includeSubtypes: true,
  nodeClassMask: 0, resultMask: 63 });

// browse sends a Browse of n copies of the folder, halving n while the answer is too large; it returns the
// accepted response and the n it took, and reports the first refusal.
async function browse(session, n) {
  let first = true;
  for (;;) {
    const r = await raw(session, new BrowseRequest({ requestedMaxReferencesPerNode: o["per-node"],
      nodesToBrowse: Array.from({ length: n }, describe) }));
    if (first) out("refused", r.fault || "Good", { nodes: n });
    first = false;
    if (r.fault !== "BadResponseTooLarge" || n === 1) return { r, n };
    n = Math.ceil(n / 2);
  }
}

// browseNext follows every continuation point to its end, asking for at most as many points per call as
// the client accepts the answer of; refs[i] counts the references of point i's node.
async function browseNext(session, cps, refs) {
  let batch = cps.length;
  while (cps.length) {
    const take = cps.slice(0, batch);
    const r = await raw(session, new BrowseNextRequest({ releaseContinuationPoints: false, continuationPoints: take.map((c) => c.cp) }));
    if (r.fault === "BadResponseTooLarge" && batch > 1) { batch = Math.ceil(batch / 2); continue; }
    if (r.fault) return r.fault;
    cps = cps.slice(take.length);
    r.results.forEach((res, j) => {
      if (res.statusCode.name !== "Good") { refs[take[j].i] = res.statusCode.name; return; }
      refs[take[j].i] += res.references.length;
      if (res.continuationPoint && res.continuationPoint.length) cps.push({ i: take[j].i, cp: res.continuationPoint });
    });
  }
  return "Good";
}

async function main() {
  const client = OPCUAClient.create({
    applicationName: "svgateway-test-client", endpointMustExist: false,
    securityPolicy: SecurityPolicy.None, securityMode: MessageSecurityMode.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 }, keepSessionAlive: false,
    transportSettings: { maxMessageSize: o["max-message-size"] },
  });
  await client.connect(o.url);
  const session = await client.createSession();
  const all = await session.browse({ ...describe(), nodeId: o.folder });
  const { r, n } = await browse(session, o.nodes);
  if (r.fault) {
    out("browse", r.fault, { nodes: n });
  } else {
    const statuses = [...new Set(r.results.map((res) => res.statusCode.name))];
    const cps = [];
    const refs = r.results.map((res, i) => {
      if (res.continuationPoint && res.continuationPoint.length) cps.push({ i, cp: res.continuationPoint });
      return res.references.length;
    });
    out("browse", r.responseHeader.serviceResult.name, { nodes: n, statuses, continuationPoints: cps.length });
    const status = await browseNext(session, cps, refs);
    out("complete", status, { all: all.references.length, counts: [...new Set(refs)] });
  }
  await session.close();
  await client.disconnect();
}

main().then(() => exit(0), (e) => { out("error", name(e)); exit(1); });
