#!/usr/bin/env node
// node-opcua reads of what a SCADA client learns about the server before it subscribes, driven by the Go end-to-end
// tests (services_test.go): ServerDiagnosticsSummary before and after sessions come and go (one refused), the
// Server/Namespaces objects and their metadata, and the DataType, value and EURange of given variables. Prints one JSON object per check: {"check": NAME, ...}.
//
//   node info.js --url URL --user NAME:PASSWORD [--types ID,ID] [--ranges ID,ID] [--pki DIR] [--max-seconds 120]
"use strict";
const { flags, connect, exit } = require("./connect");
const { AttributeIds, BrowseDirection, makeBrowsePath, CreateSubscriptionRequest, DataType } = require("node-opcua");

const o = flags({ types: "", ranges: "", "max-seconds": 120 });
const user = o.user;
o.user = "";
const out = (check, extra) => console.log(JSON.stringify({ check, ...extra }));
const raw = (session, req) => new Promise((res) => session.performMessageTransaction(req, (err, r) => res(err ? { fault: String(err.message) } : r)));
const jsonValue = (v) => (v instanceof Date ? v.toISOString() : v && v.constructor && v.constructor.name === "Int32Array" ? Array.from(v) : v);

const SUMMARY = { CurrentSessionCount: 2277, CumulatedSessionCount: 2278, SecurityRejectedSessionCount: 2279,
  RejectedSessionCount: 3705, SessionTimeoutCount: 2281, CurrentSubscriptionCount: 2285, CumulatedSubscriptionCount: 2286,
  PublishingIntervalCount: 2284, SecurityRejectedRequestsCount: 2287, RejectedRequestsCount: 2288, EnabledFlag: 2294 };

async function summary(session) {
  const names = Object.keys(SUMMARY);
  const dvs = await session.read(names.map((n) => ({ nodeId: `i=${SUMMARY[n]}`, attributeId: AttributeIds.Value })));
  const r = {};
  names.forEach((n, i) => { r[n] = dvs[i].statusCode.isGood() ? dvs[i].value.value : dvs[i].statusCode.name; });
  const whole = await session.read({ nodeId: "i=2275", attributeId: AttributeIds.Value });
  r.summaryStatus = whole.statusCode.name;
  r.summaryCurrentSessionCount = whole.value.value && whole.value.value.currentSessionCount;
  return r;
}

async function main() {
  const a = await connect(o);

  out("diagnostics-before", await summary(a.session));
  const sub = await raw(a.session, new CreateSubscriptionRequest({ requestedPublishingInterval: 250, requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 10, publishingEnabled: true }));
  const b = await connect(o);
  let refused = "none";
  try {
    const bad = await connect({ ...o, security: "Basic256Sha256:SignAndEncrypt", user: user.split(":")[0] + ":wrong password" });
    await bad.session.close(); await bad.client.disconnect();
  } catch (e) { refused = String(e.message).split("\n")[0]; }
  out("diagnostics-after", { ...(await summary(a.session)), subscription: sub.subscriptionId, refused });
  await b.session.close(); await b.client.disconnect();

  // Server/Namespaces: one NamespaceMetadataType object per namespace, with its properties.
  const ns = await a.session.browse({ nodeId: "i=11715", referenceTypeId: "HasComponent", includeSubtypes: true,
    browseDirection: BrowseDirection.Forward, resultMask: 63 });
  const objects = [];
  for (const ref of ns.references || []) {
    const props = ["NamespaceUri", "NamespaceVersion", "NamespacePublicationDate", "IsNamespaceSubset", "StaticNodeIdTypes",
      "StaticNumericNodeIdRange", "StaticStringNodeIdPattern"];
    const ids = await a.session.translateBrowsePath(props.map((p) => makeBrowsePath(ref.nodeId, `.${p}`)));
    const dvs = await a.session.read(ids.map((t) => ({ nodeId: t.targets && t.targets.length ? t.targets[0].targetId : "i=0", attributeId: AttributeIds.Value })));
    const o2 = { browseName: ref.browseName.toString(), typeDefinition: ref.typeDefinition.toString() };
    props.forEach((p, i) => { o2[p] = dvs[i].statusCode.isGood() ? jsonValue(dvs[i].value.value) : dvs[i].statusCode.name; });
    objects.push(o2);
  }
  out("namespaces", { status: ns.statusCode.name, objects });
  const nsArray = await a.session.read({ nodeId: "i=2255", attributeId: AttributeIds.Value });
  out("namespace-array", { value: nsArray.value.value });

  for (const id of o.types ? o.types.split(",") : []) {
    const [dt, v] = await a.session.read([{ nodeId: id, attributeId: AttributeIds.DataType }, { nodeId: id, attributeId: AttributeIds.Value }]);
    out("type", { id, dataType: dt.value.value ? dt.value.value.toString() : null, status: v.statusCode.name,
      variantType: DataType[v.value.dataType], value: jsonValue(v.value.value) });
  }
  for (const id of o.ranges ? o.ranges.split(",") : []) {
    const [t] = await a.session.translateBrowsePath([makeBrowsePath(id, ".EURange")]);
    const target = t.targets && t.targets.length ? t.targets[0].targetId : null;
    const r = target ? await a.session.read({ nodeId: target, attributeId: AttributeIds.Value }) : null;
    out("range", { id, status: r ? r.statusCode.name : t.statusCode.name, low: r && r.value.value ? r.value.value.low : null,
      high: r && r.value.value ? r.value.value.high : null });
  }
  await a.session.close();
  await a.client.disconnect();
  exit(0);
}

main().catch((e) => { out("info", { error: String(e && e.message).split("\n")[0] }); exit(1); });
