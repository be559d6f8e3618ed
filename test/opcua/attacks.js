#!/usr/bin/env node
// Session-layer attacks sent with node-opcua, driven by svgateway's Go tests (opcua/nodeopcua_test.go):
// service requests without a session, with a session that was created but never activated, and with
// the session token of another secure channel; then checks that the owner and new clients are served.
// Prints one JSON object per line: {"check": NAME, "status": "<StatusCode name or error text>"}.
// Needs an endpoint offering SecurityPolicy None with Anonymous.
//
//   node attacks.js --url opc.tcp://127.0.0.1:PORT --pki DIR [--max-seconds S]
"use strict";
const crypto = require("crypto");
const {
  OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, AttributeIds, DataType,
  ReadRequest, WriteRequest, CreateSubscriptionRequest, PublishRequest, CreateSessionRequest,
} = require("node-opcua");

const o = { url: "", pki: "", "max-seconds": 60 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, "");
  if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
  o[k] = typeof o[k] === "number" ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!o.url || !o.pki) { console.error("--url and --pki are required"); process.exit(2); }
setTimeout(() => { out("watchdog", `${o["max-seconds"]}s expired`); process.exit(3); }, o["max-seconds"] * 1000).unref();

function out(check, status) { console.log(JSON.stringify({ check, status })); }

function newClient() {
  return OPCUAClient.create({
    applicationName: "svgateway-test-attacker",
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: false,
    defaultTransactionTimeout: 20000,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }),
  });
}

// send performs one raw request on the client's secure channel and returns the service result name.
function send(client, request) {
  return new Promise((resolve) => {
    client.performMessageTransaction(request, (err, response) => {
      if (err) {
        const r = err.response;
        resolve(r && r.responseHeader ? { status: r.responseHeader.serviceResult.name } : { status: `error: ${err.message.split("\n")[0]}` });
        return;
      }
      resolve({ status: response.responseHeader.serviceResult.name, response });
    });
  });
}

const requests = (token) => {
  const requestHeader = token ? { authenticationToken: token } : {};
  return {
    Read: new ReadRequest({ requestHeader, nodesToRead: [{ nodeId: "ns=1;s=A", attributeId: AttributeIds.Value }] }),
    Write: new WriteRequest({ requestHeader, nodesToWrite: [{ nodeId: "ns=1;s=A", attributeId: AttributeIds.DisplayName,
      value: { value: { dataType: DataType.LocalizedText, value: { text: "pwned" } } } }] }),
    CreateSubscription: new CreateSubscriptionRequest({ requestHeader, requestedPublishingInterval: 100, requestedLifetimeCount: 60,
      requestedMaxKeepAliveCount: 2, publishingEnabled: true }),
    Publish: new PublishRequest({ requestHeader }),
  };
};

async function main() {
  // 1. no session at all
  const a = newClient();
  await a.connect(o.url);
  for (const [name, req] of Object.entries(requests(null))) out(`no-session:${name}`, (await send(a, req)).status);

  // 2. a session created but never activated
  const created = await send(a, new CreateSessionRequest({
    clientDescription: { applicationUri: "urn:svgateway-test-attacker", applicationName: { text: "attacker" } },
    sessionName: "never-activated", clientNonce: crypto.randomBytes(32), requestedSessionTimeout: 60000,
  }));
  out("create-session", created.status);
  if (created.response) {
    const token = created.response.authenticationToken;
    for (const [name, req] of Object.entries(requests(token))) out(`not-activated:${name}`, (await send(a, req)).status);
  }
  await a.disconnect();

  // 3. the token of a session activated on another channel
  const owner = newClient();
  await owner.connect(o.url);
  const session = await owner.createSession();
  const thief = newClient();
  await thief.connect(o.url);
  for (const [name, req] of Object.entries(requests(session.authenticationToken))) out(`other-channel:${name}`, (await send(thief, req)).status);
  await thief.disconnect();
  const dv = await session.read({ nodeId: "ns=1;s=A", attributeId: AttributeIds.Value });
  out("owner-still-served", dv.statusCode.name);
  await session.close();
  await owner.disconnect();

  // 4. a new client is served
  const fresh = newClient();
  await fresh.connect(o.url);
  const s2 = await fresh.createSession();
  const dv2 = await s2.read({ nodeId: "ns=1;s=A", attributeId: AttributeIds.Value });
  out("new-client-served", dv2.statusCode.name);
  await s2.close();
  await fresh.disconnect();
}

main().then(() => process.exit(0), (e) => { out("fatal", `error: ${String(e.message).split("\n")[0]}`); process.exit(0); });
