// Shared by crawl.js, subscribe.js and probe.js: flag parsing, a watchdog, and a node-opcua session with the
// requested security and identity. The PKI folder is shared by the scripts (one client certificate).
"use strict";
const os = require("os");
const path = require("path");
const { OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, UserTokenType } = require("node-opcua");

const CONNECT = { url: "", pki: path.join(os.tmpdir(), "svgateway-opcua-test-pki"), security: "None", user: "", "max-seconds": 300 };

// flags parses --name value (and --flag for booleans) over defaults; --url is required.
function flags(defaults) {
  const o = { ...CONNECT, ...defaults };
  for (let i = 2; i < process.argv.length; i++) {
    const k = process.argv[i].replace(/^--/, "");
    if (!(k in o)) { console.error(`unknown flag --${k}; known: ${Object.keys(o).join(" ")}`); process.exit(2); }
    if (typeof o[k] === "boolean") o[k] = true;
    else o[k] = typeof o[k] === "number" ? Number(process.argv[++i]) : process.argv[++i];
  }
  if (!o.url) { console.error("--url is required"); process.exit(2); }
  setTimeout(() => { console.log(JSON.stringify({ error: `watchdog: ${o["max-seconds"]}s expired` })); process.exit(3); },
    o["max-seconds"] * 1000).unref();
  return o;
}

// connect opens a session: --security None | Basic256Sha256:Sign | Basic256Sha256:SignAndEncrypt, --user name:password
// (and o["session-timeout"] in ms where a script sets it; default 120 s).
async function connect(o) {
  const [policy, mode] = o.security === "None" ? ["None", "None"] : o.security.split(":");
  const client = OPCUAClient.create({
    applicationName: "svgateway-test-client", endpointMustExist: false,
    securityPolicy: SecurityPolicy[policy], securityMode: MessageSecurityMode[mode],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: o["session-timeout"] || 120000, keepSessionAlive: false, defaultTransactionTimeout: 60000,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }),
  });
  await client.connect(o.url);
  let identity = { type: UserTokenType.Anonymous };
  if (o.user) {
    const i = o.user.indexOf(":");
    identity = { type: UserTokenType.UserName, userName: o.user.slice(0, i), password: o.user.slice(i + 1) };
  }
  return { client, session: await client.createSession(identity) };
}

// exit ends the process once everything written to stdout has been flushed: process.exit right after
// console.log loses the tail of the output when stdout is a pipe whose reader is slower than the writes.
function exit(code) {
  process.stdout.write("", () => process.exit(code));
}

module.exports = { flags, connect, exit };
