#!/usr/bin/env node
// Reference OPC UA server for test/opcua/bench.sh: node-opcua serving the same tree as svgateway's
// benchserver — it loads nodeset/SmartView.NodeSet2.xml and instantiates its types for the same synthetic
// footprint (model/modeltest, Shape.Assorted: IBX → zone → cages → cabinets → circuits, assets by classification /
// category / template with their tags), with the same readings changing every --tick (± --jitter).
// SecurityPolicy None, anonymous, 127.0.0.1, bounded by --max-seconds. Prints "peer listening URL nodes=N".
//
//   node peer-server.js [--port 48700] [--ibx 1 --cages 5 --cabinets 6 --circuits 4 --assets 30 --tags 10]
//        [--tick MS] [--jitter 0.5] [--max-seconds 900]
"use strict";
const os = require("os");
const path = require("path");
const {
  OPCUAServer, OPCUACertificateManager, Variant, DataType, StatusCodes, nodesets, makeEUInformation, standardUnits,
} = require("node-opcua");

const o = { port: 48700, ibx: 1, cages: 5, cabinets: 6, circuits: 4, assets: 30, tags: 10, tick: 0, jitter: 0.5, "max-seconds": 900 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, "");
  if (!(k in o)) { console.error(`unknown flag --${k}`); process.exit(2); }
  o[k] = Number(process.argv[i + 1]);
}
const TYPES = "https://github.com/svgateway/svgateway/UA/SmartView/";
const pad = (n, w) => String(n).padStart(w, "0");
const UNITS = { kVA: makeEUInformation("KVA", "kVA", "kilovolt ampere"), A: standardUnits.ampere, V: standardUnits.volt,
  "°C": standardUnits.degree_celsius, "%": standardUnits.percent, kW: standardUnits.kilowatt, Hz: standardUnits.hertz,
  h: makeEUInformation("HUR", "h", "hour") };
const TAG_UNITS = ["", "kVA", "A", "V", "°C", "%", "kW", "Hz", "h"];
const reading = (tick, i) => ((tick + i) % 1000) / 10; // modeltest.Reading

async function main() {
  const server = new OPCUAServer({
    port: o.port, hostname: "127.0.0.1", alternateHostname: ["127.0.0.1"],
    nodeset_filename: [nodesets.standard, path.join(__dirname, "../../nodeset/SmartView.NodeSet2.xml")],
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: path.join(os.tmpdir(), "svgateway-peer-pki"),
      automaticallyAcceptUnknownCertificate: true }),
    allowAnonymous: true, buildInfo: { productName: "svgateway bench peer (node-opcua)" },
    serverCapabilities: { maxSessions: 50, operationLimits: { maxNodesPerRead: 10000, maxNodesPerBrowse: 1000 } },
  });
  await server.initialize();
  const as = server.engine.addressSpace;
  const ns = as.registerNamespace("https://github.com/svgateway/svgateway/UA/SmartView/Instances/");
  const t = as.getNamespaceIndex(TYPES);
  const type = (name) => as.findObjectType(name, t) || as.findVariableType(name, t);
  const folder = (parent, name, id) => ns.addObject({ typeDefinition: "FolderType", organizedBy: parent, browseName: name, nodeId: "s=" + id });
  const locations = [], tags = [];
  const loc = (typeName, parent, name, id, label, optionals) => {
    const obj = type(typeName).instantiate({ browseName: name, displayName: label || name, organizedBy: parent, nodeId: "s=" + id, optionals });
    const prop = (p, v) => { const n = obj.getPropertyByName(p); if (n) n.setValueFromSource({ dataType: DataType.String, value: v }); };
    prop("LocationId", id); prop("Label", label || name);
    locations.push(obj);
    return obj;
  };
  const sv = folder(as.rootFolder.objects, "SmartView", "SmartView");
  type("GatewayStatusType").instantiate({ browseName: "Gateway", organizedBy: sv, nodeId: "s=Gateway" });
  for (let i = 0; i < o.ibx; i++) {
    const ibx = "IB" + pad(i + 1, 2);
    const ibxObj = loc("IBXType", sv, ibx, `${ibx}/IBX/${ibx}`, ibx);
    const zoneName = ibx + ":1:01:ColoA:1";
    const zone = loc("ZoneType", ibxObj, zoneName, `${ibx}/ZONE/${zoneName}`, "Colo A");
    for (let c = 0; c < o.cages; c++) {
      const cageName = `${ibx}:01:${pad(c, 6)}`;
      const cage = loc("CageType", zone, cageName, `${ibx}/CAGE/${cageName}`, cageName, ["Number"]);
      for (let k = 0; k < o.cabinets; k++) {
        const cabName = `${cageName}:${pad(k, 4)}`;
        const cab = loc("CabinetType", cage, cabName, `${ibx}/CABINET/${cabName}`, cabName, ["Number"]);
        for (let r = 0; r < o.circuits; r++) {
          const ckt = `${ibx}${pad(c, 3)}${pad(k, 2)}${r}`;
          loc("CircuitType", cab, ckt, `${ibx}/CIRCUIT/${ckt}`, "120V 20A 1Ph", ["Role"]);
        }
      }
    }
    const assets = folder(ibxObj, "Assets", `${ibx}/Assets`);
    folder(ibxObj, "Alarms", `${ibx}/Alarms`);
    const cls = folder(assets, "Electrical", `${ibx}/Assets/Electrical`);
    const cat = folder(cls, "Global", `${ibx}/Assets/Electrical/Global`);
    const tpl = ["PDU", "UPS", "Generator"].map((n) => folder(cat, n, `${ibx}/Assets/Electrical/Global/${n}`));
    for (let a = 0; a < o.assets; a++) {
      const aid = `${ibx}.PDU-${a}`;
      const asset = type("AssetType").instantiate({ browseName: aid, organizedBy: tpl[a % 3], nodeId: `s=${ibx}/ASSET/${aid}` });
      for (let k = 0; k < o.tags; k++) {
        const unit = TAG_UNITS[k % 9], tid = `${aid}:tag${k}`;
        const v = type(unit ? "AnalogTagType" : "TagType").instantiate({ browseName: `tag${k}`, displayName: `Tag ${k}`,
          componentOf: asset, nodeId: `s=${ibx}/TAG/${tid}`, dataType: unit ? "Double" : "BaseDataType" });
        if (unit) v.getPropertyByName("EngineeringUnits").setValueFromSource({ dataType: DataType.ExtensionObject, value: UNITS[unit] });
        tags.push({ v, unit });
      }
    }
  }
  // the variables a tick changes, in modeltest.Fill's order
  const power = ["KVA", "Amps", "PercentOfContract", "PrimaryKVA", "RedundantKVA", "PeakKVA7d"];
  const leaves = [];
  locations.forEach((obj, i) => {
    for (const name of [...power, "Temperature", "Humidity"]) {
      const v = obj.getComponentByName(name);
      if (v) leaves.push({ v, i, name });
    }
  });
  const set = (v, value, now) => v.setValueFromSource(new Variant({ dataType: DataType.Double, value }), StatusCodes.Good, now);
  let ticks = 0;
  const tickOnce = () => {
    const now = new Date();
    for (const { v, i, name } of leaves) {
      const r = reading(ticks, i);
      const value = { KVA: r, Amps: r * 4, PercentOfContract: r / 1.5, PrimaryKVA: r / 2, RedundantKVA: r / 2, PeakKVA7d: r + 5,
        Temperature: 18 + r / 10, Humidity: 40 + r / 10 }[name];
      set(v, value, now);
    }
    tags.forEach(({ v, unit }, i) => {
      if (unit) set(v, reading(ticks, i), now);
      else v.setValueFromSource(new Variant({ dataType: DataType.String, value: ["RUNNING", "READY"][(ticks + i) % 2] }), StatusCodes.Good, now);
    });
    ticks++;
  };
  tickOnce();
  await server.start();
  console.log(`peer listening ${server.getEndpointUrl()} leaves=${leaves.length + tags.length} pid=${process.pid}`);
  let timer = null;
  const schedule = () => { timer = setTimeout(() => { tickOnce(); schedule(); }, o.tick * (1 + o.jitter * (2 * Math.random() - 1))); };
  if (o.tick > 0) schedule();
  const stop = async (why) => {
    if (timer) clearTimeout(timer);
    console.log(`peer stopping (${why}) ticks=${ticks}`);
    await server.shutdown(100);
    process.exit(0);
  };
  setTimeout(() => stop("max-seconds"), o["max-seconds"] * 1000).unref();
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((e) => { console.error(e); process.exit(1); });
