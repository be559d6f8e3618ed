#!/usr/bin/env node
// node-opcua alarm console driven by svgateway's Go tests (test/opcua_events_test.go and the
// alarm benchmark): subscribes to events on the Server object with an EventFilter (select clauses
// of the standard and SmartView fields, where clause OfType AlarmConditionType) and prints one
// JSON line per event, then runs the commands it reads from stdin (one JSON object a line) and
// prints one result line each.
//
//   node events.js --url opc.tcp://127.0.0.1:PORT --pki DIR [--user name:password] [--max-seconds S]
//        [--interval MS]
// Output lines:
//   {"ready": true, "subscription": N}                  the event item is created
//   {"event": {Field: value, ...}, "t": epoch ms}       one event (values as JSON; EventId hex; t fractional)
//   {"result": CMD, "status": "Good" | status name, ...} the outcome of a command
// Commands:
//   {"cmd": "refresh"}                                   ConditionRefresh on the subscription
//   {"cmd": "refresh2"}                                  ConditionRefresh2 on the event item
//   {"cmd": "reconnect"}                                 new session, subscription and item
//   {"cmd": "ack"|"comment", "conditionId": ID, "eventId": HEX, "comment": TEXT}
//   {"cmd": "call", "objectId": ID, "methodId": ID, "args": [[DataTypeName, value]...]}
//   {"cmd": "filter", "where": "bad-operator"|"operand-count"|"cycle", "select": [NAMES]}
//   {"cmd": "history", "start": ISO, "end": ISO, "max": N}  HistoryRead ReadEventDetails on Server
//   {"cmd": "quit"}
"use strict";
const readline = require("readline");
const { performance } = require("perf_hooks");
const {
  OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, UserTokenType, AttributeIds,
  ClientSubscription, ClientMonitoredItem, TimestampsToReturn, DataType, constructEventFilter, ofType,
  ContentFilterElement, ContentFilter, EventFilter, FilterOperator, LiteralOperand, ElementOperand,
  SimpleAttributeOperand, coerceNodeId, ReadEventDetails, HistoryReadRequest,
} = require("node-opcua");

function parse(argv) {
  const o = { url: "", pki: "", user: "", "max-seconds": 120, interval: 0 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
    const v = argv[++i];
    o[k] = typeof o[k] === "number" ? Number(v) : v;
  }
  if (!o.url || !o.pki) { console.error("--url and --pki are required"); process.exit(2); }
  return o;
}

const o = parse(process.argv);
setTimeout(() => { out({ result: "watchdog", status: `${o["max-seconds"]}s expired` }); process.exit(3); }, o["max-seconds"] * 1000).unref();

function out(obj) { console.log(JSON.stringify(obj)); }
const errText = (e) => String((e && e.message) || e).split("\n")[0];

// FIELDS are the select clauses, in order; the printed event names them.
const FIELDS = ["EventId", "EventType", "SourceNode", "SourceName", "Time", "ReceiveTime", "Message", "Severity",
  "ConditionName", "ConditionId", "Retain", "EnabledState.Id", "ActiveState", "ActiveState.Id", "AckedState", "AckedState.Id",
  "Quality", "LastSeverity", "Comment", "ClientUserId", "3:IBX", "3:AssetId", "3:TagId", "3:AlarmId", "3:UpstreamAcknowledged",
  "3:OperatorAckUser"];

function plain(v) {
  if (v === null || v === undefined) return null;
  const x = v.value;
  if (x === null || x === undefined) return null;
  if (Buffer.isBuffer(x)) return x.toString("hex");
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "bigint") return Number(x);
  if (Array.isArray(x) && x.length === 2 && v.dataType === DataType.UInt64) return x[0] * 2 ** 32 + x[1]; // node-opcua UInt64
  if (x && x.text !== undefined) return x.text;
  if (x && x.namespace !== undefined && x.identifierType !== undefined) return x.toString();
  if (typeof x === "object" && x.value !== undefined && x.name !== undefined) return x.name; // StatusCode
  return x;
}

let client, session, subscription, item;

async function open() {
  const identity = o.user ? { type: UserTokenType.UserName, userName: o.user.split(":")[0], password: o.user.slice(o.user.indexOf(":") + 1) }
    : { type: UserTokenType.Anonymous };
  client = OPCUAClient.create({
    applicationName: "svgateway-test-alarms", endpointMustExist: false,
    securityPolicy: SecurityPolicy.None, securityMode: MessageSecurityMode.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 }, keepSessionAlive: false,
    defaultTransactionTimeout: 20000,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }),
  });
  await client.connect(o.url);
  session = await client.createSession(identity);
  subscription = ClientSubscription.create(session, {
    // node-opcua turns a requested 0 into 100 ms; a tiny interval asks the server for its minimum
    requestedPublishingInterval: o.interval || 0.001, requestedLifetimeCount: 1000, requestedMaxKeepAliveCount: 20,
    maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
  });
  await new Promise((resolve, reject) => { subscription.once("started", resolve); subscription.once("internal_error", reject); });
  const filter = constructEventFilter(FIELDS, ofType("AlarmConditionType"));
  const rf = constructEventFilter(FIELDS); // refresh start/end are not conditions: no where clause for them
  item = ClientMonitoredItem.create(subscription, { nodeId: "i=2253", attributeId: AttributeIds.EventNotifier },
    { samplingInterval: 0, discardOldest: true, queueSize: 10000, filter: orRefresh(filter) }, TimestampsToReturn.Neither);
  item.on("changed", (fields) => {
    const ev = {};
    FIELDS.forEach((f, i) => { ev[f] = plain(fields[i]); });
    out({ event: ev, t: performance.timeOrigin + performance.now() });
  });
  await new Promise((resolve, reject) => { item.once("initialized", resolve); item.once("err", (e) => reject(new Error(e))); });
  out({ ready: true, subscription: subscription.subscriptionId, item: item.monitoredItemId, publishingInterval: subscription.publishingInterval });
}

// orRefresh widens a filter's where clause: its own OR an OfType of the refresh events, so that
// ConditionRefresh's bracket reaches the item.
function orRefresh(filter) {
  const lit = (id) => new LiteralOperand({ value: { dataType: DataType.NodeId, value: coerceNodeId(id) } });
  const els = [
    new ContentFilterElement({ filterOperator: FilterOperator.Or, filterOperands: [new ElementOperand({ index: 1 }), new ElementOperand({ index: 2 })] }),
    filter.whereClause.elements[0],
    new ContentFilterElement({ filterOperator: FilterOperator.OfType, filterOperands: [lit("i=2130")] }), // SystemEventType
  ];
  return new EventFilter({ selectClauses: filter.selectClauses, whereClause: new ContentFilter({ elements: els }) });
}

async function call(objectId, methodId, inputArguments) {
  const r = await session.call({ objectId, methodId, inputArguments });
  return { status: r.statusCode.name, inputArgumentResults: (r.inputArgumentResults || []).map((s) => s.name),
    outputArguments: (r.outputArguments || []).map((v) => (Array.isArray(v.value) || ArrayBuffer.isView(v.value) ? Array.from(v.value) : v.value)) };
}

async function command(c) {
  switch (c.cmd) {
    case "refresh":
      return call("i=2782", "i=3875", [{ dataType: DataType.UInt32, value: subscription.subscriptionId }]);
    case "refresh2":
      return call("i=2782", "i=12912", [{ dataType: DataType.UInt32, value: subscription.subscriptionId },
        { dataType: DataType.UInt32, value: item.monitoredItemId }]);
    case "reconnect":
      await client.disconnect();
      await open();
      return { status: "Good", subscription: subscription.subscriptionId, item: item.monitoredItemId };
    case "ack":
    case "comment":
      return call(c.conditionId, c.cmd === "ack" ? "i=9111" : "i=9029", [
        { dataType: DataType.ByteString, value: Buffer.from(c.eventId, "hex") },
        { dataType: DataType.LocalizedText, value: { text: c.comment } }]);
    case "call":
      return call(c.objectId, c.methodId, (c.args || []).map(([t, v]) => ({ dataType: DataType[t], value: t === "ByteString" ? Buffer.from(v, "hex") : v })));
    case "filter": {
      let where;
      const sel = (name) => new SimpleAttributeOperand({ typeDefinitionId: "i=2041", browsePath: [{ name }], attributeId: AttributeIds.Value });
      switch (c.where) {
        case "bad-operator":
          where = [new ContentFilterElement({ filterOperator: FilterOperator.RelatedTo, filterOperands: [sel("SourceNode"), sel("SourceNode")] })];
          break;
        case "operand-count":
          where = [new ContentFilterElement({ filterOperator: FilterOperator.Equals, filterOperands: [sel("Severity")] })];
          break;
        case "cycle":
          where = [new ContentFilterElement({ filterOperator: FilterOperator.Not, filterOperands: [new ElementOperand({ index: 0 })] })];
          break;
      }
      const f = constructEventFilter(c.select || ["EventId"]);
      if (where) f.whereClause = new ContentFilter({ elements: where });
      const r = await session.createMonitoredItems({ subscriptionId: subscription.subscriptionId, timestampsToReturn: TimestampsToReturn.Neither,
        itemsToCreate: [{ itemToMonitor: { nodeId: "i=2253", attributeId: AttributeIds.EventNotifier },
          monitoringMode: 2, requestedParameters: { clientHandle: 999, samplingInterval: 0, queueSize: 10, discardOldest: true, filter: f } }] });
      const res = r.results[0];
      const fr = res.filterResult || {};
      return { status: res.statusCode.name, select: (fr.selectClauseResults || []).map((s) => s.name),
        elements: ((fr.whereClauseResult || {}).elementResults || []).map((e) => e.statusCode.name) };
    }
    case "history": {
      const details = new ReadEventDetails({ numValuesPerNode: c.max || 0, startTime: c.start ? new Date(c.start) : null,
        endTime: c.end ? new Date(c.end) : null, filter: constructEventFilter(FIELDS) });
      const r = await session.performMessageTransaction(new HistoryReadRequest({ historyReadDetails: details,
        timestampsToReturn: TimestampsToReturn.Neither, nodesToRead: [{ nodeId: "i=2253" }] }));
      const res = r.results[0];
      const events = ((res.historyData && res.historyData.events) || []).map((e) => {
        const ev = {};
        FIELDS.forEach((f, i) => { ev[f] = plain(e.eventFields[i]); });
        return ev;
      });
      return { status: res.statusCode.name, serviceResult: r.responseHeader.serviceResult.name, events };
    }
  }
  return { status: "unknown command" };
}

async function main() {
  try {
    await open();
  } catch (e) {
    out({ result: "open", status: errText(e) });
    process.exit(1);
  }
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let c;
    try { c = JSON.parse(line); } catch (e) { out({ result: "parse", status: errText(e) }); continue; }
    if (c.cmd === "quit") break;
    try {
      out({ result: c.cmd, ...(await command(c)) });
    } catch (e) {
      out({ result: c.cmd, status: errText(e) });
    }
  }
  await client.disconnect();
  process.exit(0);
}
main();
