#!/usr/bin/env node
// Reference server for test/opcua/bench-history.sh: node-opcua's own history (installHistoricalDataNode, an
// in-memory historian) for one Double variable, filled with --hours of readings one per 30 s up to now (the
// values of svgateway's benchserver -history-hours). SecurityPolicy None, anonymous, 127.0.0.1, bounded by
// --max-seconds. Prints "peer listening URL history=NODEID".
//
//   node peer-history.js [--port 48710] [--hours 24] [--max-seconds 600]
"use strict";
const os = require("os");
const path = require("path");
const { OPCUAServer, OPCUACertificateManager, DataType, DataValue, Variant, StatusCodes } = require("node-opcua");

const o = { port: 48710, hours: 24, "max-seconds": 600 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, "");
  if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
  o[k] = Number(process.argv[i + 1]);
}
setTimeout(() => process.exit(0), o["max-seconds"] * 1000).unref();

async function main() {
  const server = new OPCUAServer({
    port: o.port, hostname: "127.0.0.1", alternateHostname: ["127.0.0.1"],
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: path.join(os.tmpdir(), "svgateway-peer-pki"),
      automaticallyAcceptUnknownCertificate: true }),
    allowAnonymous: true, buildInfo: { productName: "svgateway history bench peer (node-opcua)" },
  });
  await server.initialize();
  const as = server.engine.addressSpace;
  const ns = as.getOwnNamespace();
  const v = ns.addVariable({ organizedBy: as.rootFolder.objects, browseName: "Tag", nodeId: "s=Tag", dataType: DataType.Double,
    value: new Variant({ dataType: DataType.Double, value: 0 }) });
  const n = o.hours * 120;
  as.installHistoricalDataNode(v, { maxOnlineValues: n + 10 });
  const now = Date.now();
  for (let k = 0; k < n; k++) {
    const t = new Date(now - (n - k) * 30000);
    v.setValueFromSource(new Variant({ dataType: DataType.Double, value: (k % 1000) / 10 }), StatusCodes.Good, t);
  }
  await server.start();
  console.log(`peer listening opc.tcp://127.0.0.1:${o.port} history=ns=1;s=Tag pid=${process.pid}`);
  await new Promise((resolve) => { process.on("SIGTERM", resolve); process.on("SIGINT", resolve); });
  await server.shutdown(0);
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
