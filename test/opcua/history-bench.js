#!/usr/bin/env node
// HistoryRead latency client for test/opcua/bench-history.sh: on one session, --runs reads of the last
// --hours of one variable's raw history (ReadRawModifiedDetails, all values, following continuation points
// if the server pages), one after the other. Prints one JSON line: values per read, p50/p99/max in ms.
//
//   node history-bench.js --url URL --node NODEID [--hours 24] [--runs 200] [--max-seconds 300]
"use strict";
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, HistoryReadRequest, ReadRawModifiedDetails,
  TimestampsToReturn } = require("node-opcua");

const o = { url: "", node: "", hours: 24, runs: 200, "max-seconds": 300 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, "");
  if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
  o[k] = typeof o[k] === "number" ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
setTimeout(() => { console.log(JSON.stringify({ error: "watchdog" })); process.exit(3); }, o["max-seconds"] * 1000).unref();

async function main() {
  const client = OPCUAClient.create({ endpointMustExist: false, securityPolicy: SecurityPolicy.None,
    securityMode: MessageSecurityMode.None, connectionStrategy: { maxRetry: 0 }, keepSessionAlive: false });
  await client.connect(o.url);
  const session = await client.createSession();
  const end = new Date(Date.now() + 60000), start = new Date(end.getTime() - o.hours * 3600000 - 300000); // the servers filled theirs up to their start
  const readAll = async () => {
    let cp = null, n = 0;
    do {
      const req = new HistoryReadRequest({
        historyReadDetails: new ReadRawModifiedDetails({ isReadModified: false, startTime: start, endTime: end, numValuesPerNode: 0 }),
        timestampsToReturn: TimestampsToReturn.Source, nodesToRead: [{ nodeId: o.node, continuationPoint: cp }] });
      const [r] = (await session.historyRead(req)).results;
      if (r.statusCode.name !== "Good") throw new Error(r.statusCode.name);
      n += r.historyData.dataValues.length;
      cp = r.continuationPoint && r.continuationPoint.length ? r.continuationPoint : null;
    } while (cp);
    return n;
  };
  await readAll(); // warm-up
  const ms = [];
  let values = 0;
  for (let i = 0; i < o.runs; i++) {
    const t = process.hrtime.bigint();
    values = await readAll();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(2);
  console.log(JSON.stringify({ values, runs: o.runs, p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1].toFixed(2) }));
  await session.close();
  await client.disconnect();
}
main().catch((e) => { console.log(JSON.stringify({ error: String(e.message || e) })); process.exit(1); });
