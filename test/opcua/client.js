#!/usr/bin/env node
// node-opcua client driven by svgateway's Go tests (opcua/*_test.go).
// Connects with the given security and identity, runs the given steps and prints one JSON object
// per line: {"step": ..., "ok": true|false, ...}. Exits 0 once the steps ran (the Go test judges
// the lines), 2 on a usage error, 3 when the watchdog fires.
//
//   node client.js --url opc.tcp://127.0.0.1:PORT --pki DIR [--security None|POLICY:Sign|POLICY:SignAndEncrypt]
//        [--user name:password | --user-cert CERT.der --user-key KEY.pem] [--session-timeout MS] [--token-lifetime MS] [--max-seconds S] [--step STEP]...
// POLICY is Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss. --user-cert and
// --user-key log in with an X.509 user identity token (the key signs it).
// Steps:
//   read=ID[,ID...]     Read the Value attribute of each node
//   readn=ID:N          one Read of N copies of ID (a large request)
//   browse=ID           Browse forward hierarchical references of ID
//   subscribe           CreateSubscription (100 ms) and wait for its first keep-alive or data change
//   history=ID:MINUTES  HistoryRead of ID's raw values over the last MINUTES minutes (every page)
//   sleep=MS            wait
"use strict";
const fs = require("fs");
const {
  OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, UserTokenType,
  AttributeIds, BrowseDirection, ClientSubscription,
} = require("node-opcua");

function parse(argv) {
  const o = { url: "", pki: "", security: "None", user: "", "user-cert": "", "user-key": "", "session-timeout": 60000, "token-lifetime": 600000, "max-seconds": 60, step: [] };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
    const v = argv[++i];
    if (Array.isArray(o[k])) o[k].push(v); else o[k] = typeof o[k] === "number" ? Number(v) : v;
  }
  if (!o.url || !o.pki) { console.error("--url and --pki are required"); process.exit(2); }
  return o;
}

const o = parse(process.argv);
setTimeout(() => { out({ step: "watchdog", ok: false, error: `${o["max-seconds"]}s expired` }); process.exit(3); }, o["max-seconds"] * 1000).unref();

function out(obj) { console.log(JSON.stringify(obj)); }
const errText = (e) => String((e && e.message) || e).split("\n")[0];

function security() {
  if (o.security === "None") return { securityPolicy: SecurityPolicy.None, securityMode: MessageSecurityMode.None };
  const [policy, mode] = o.security.split(":");
  return { securityPolicy: SecurityPolicy[policy], securityMode: MessageSecurityMode[mode] };
}

async function main() {
  const client = OPCUAClient.create({
    applicationName: "svgateway-test-client",
    endpointMustExist: false,
    ...security(),
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: o["session-timeout"],
    defaultSecureTokenLifetime: o["token-lifetime"],
    keepSessionAlive: false,
    defaultTransactionTimeout: 20000,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }),
  });
  client.on("connection_lost", () => out({ step: "event", ok: true, event: "connection_lost" }));
  try {
    await client.connect(o.url);
  } catch (e) {
    out({ step: "connect", ok: false, error: errText(e), certificate: client.certificateFile });
    return;
  }
  out({ step: "connect", ok: true, certificate: client.certificateFile });

  let identity = { type: UserTokenType.Anonymous };
  if (o.user) {
    const [userName, password] = o.user.split(":");
    identity = { type: UserTokenType.UserName, userName, password };
  }
  if (o["user-cert"]) {
    identity = { type: UserTokenType.Certificate, certificateData: fs.readFileSync(o["user-cert"]),
      privateKey: fs.readFileSync(o["user-key"], "utf8") };
  }
  let session;
  try {
    session = await client.createSession(identity);
  } catch (e) {
    out({ step: "session", ok: false, error: errText(e) });
    await client.disconnect().catch(() => {});
    return;
  }
  out({ step: "session", ok: true, timeout: session.timeout });

  for (const s of o.step) {
    const [name, arg] = s.split(/=(.*)/s);
    try {
      await run(session, name, arg || "");
    } catch (e) {
      out({ step: name, ok: false, error: errText(e) });
    }
  }
  try { await session.close(); out({ step: "close", ok: true }); } catch (e) { out({ step: "close", ok: false, error: errText(e) }); }
  await client.disconnect().catch(() => {});
}

async function run(session, name, arg) {
  switch (name) {
    case "read": {
      const dvs = await session.read(arg.split(",").map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
      out({ step: name, ok: true, results: dvs.map((dv) => ({ status: dv.statusCode.name, value: summarize(dv.value.value) })) });
      return;
    }
    case "readn": {
      const i = arg.lastIndexOf(":");
      const [nodeId, n] = [arg.slice(0, i), Number(arg.slice(i + 1))];
      const dvs = await session.read(Array.from({ length: n }, () => ({ nodeId, attributeId: AttributeIds.Value })));
      const good = dvs.filter((dv) => dv.statusCode.name === "Good").length;
      out({ step: name, ok: true, count: dvs.length, good, first: summarize(dvs[0].value.value) });
      return;
    }
    case "browse": {
      const r = await session.browse({ nodeId: arg, referenceTypeId: "HierarchicalReferences", includeSubtypes: true,
        browseDirection: BrowseDirection.Forward, resultMask: 63 });
      out({ step: name, ok: true, status: r.statusCode.name, references: (r.references || []).map((x) => x.browseName.toString()) });
      return;
    }
    case "subscribe": {
      const sub = ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedLifetimeCount: 60,
        requestedMaxKeepAliveCount: 2, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
      await new Promise((resolve, reject) => {
        sub.on("started", () => out({ step: "subscribe-started", ok: true, id: sub.subscriptionId }));
        sub.on("keepalive", resolve);
        sub.on("error", reject);
        sub.on("internal_error", reject);
      });
      out({ step: name, ok: true, keepalive: true });
      await sub.terminate().catch(() => {});
      return;
    }
    case "history": {
      const i = arg.lastIndexOf(":");
      const [nodeId, minutes] = [arg.slice(0, i), Number(arg.slice(i + 1))];
      const end = new Date();
      const start = new Date(end.getTime() - minutes * 60000);
      const values = [];
      let r = await session.readHistoryValue(nodeId, start, end, { returnBounds: false });
      values.push(...((r.historyData && r.historyData.dataValues) || []));
      // A long range comes in pages: follow the continuation point to the end.
      for (let pages = 1; r.statusCode.isGood() && r.continuationPoint && r.continuationPoint.length && pages < 1000; pages++) {
        r = await session.readHistoryValue({ nodeId, continuationPoint: r.continuationPoint }, start, end, { returnBounds: false });
        values.push(...((r.historyData && r.historyData.dataValues) || []));
      }
      out({ step: name, ok: true, status: r.statusCode.name, count: values.length,
        values: values.map((dv) => ({ src: dv.sourceTimestamp && dv.sourceTimestamp.toISOString(), v: summarize(dv.value.value), status: dv.statusCode.name })) });
      return;
    }
    case "sleep":
      await new Promise((r) => setTimeout(r, Number(arg)));
      out({ step: name, ok: true });
      return;
    default:
      throw new Error(`unknown step ${name}`);
  }
}

// Large values are reported by size and checksum, not in full.
function summarize(v) {
  if (typeof v === "string" && v.length > 64) {
    let h = 0;
    for (let i = 0; i < v.length; i++) h = (h * 31 + v.charCodeAt(i)) >>> 0;
    return { length: v.length, hash: h };
  }
  return v;
}

main().then(() => process.exit(0), (e) => { out({ step: "fatal", ok: false, error: errText(e) }); process.exit(0); });
