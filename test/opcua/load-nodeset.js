#!/usr/bin/env node
// Loads NodeSet2 files into a node-opcua address space (after node-opcua's own standard nodeset) and checks
// that every reference target, HasTypeDefinition and variable DataType of the loaded namespaces resolves, and
// that the loader logged nothing. Used by nodeset's tests; node-opcua comes from test/node_modules.
// Last line: "ok nodes=N" (exit 0) or "error: ..." (exit 1).
// Usage: node load-nodeset.js FILE.NodeSet2.xml [MORE.xml ...]
"use strict";
const fs = require("fs");
const { AddressSpace, generateAddressSpace, nodesets, NodeClass, setWarningLogger, setErrorLogger } = require("node-opcua");

async function main() {
  const files = process.argv.slice(2);
  if (!files.length) throw new Error("usage: node load-nodeset.js FILE...");
  const logged = [];
  const capture = (...a) => {
    const msg = a.filter((x) => typeof x !== "object").join(" ");
    if (!/NODE-OPCUA-W27|security-revert/.test(msg)) logged.push(msg); // a Node.js crypto notice, not about the files
  };
  setWarningLogger(capture);
  setErrorLogger(capture);
  const as = AddressSpace.create();
  for (const f of files) {
    if (!/<\/UANodeSet>\s*$/.test(fs.readFileSync(f, "utf8"))) throw new Error(`${f}: truncated (no </UANodeSet>)`);
  }
  await generateAddressSpace(as, [nodesets.standard, ...files]);
  const problems = [];
  let nodes = 0;
  for (const ns of as.getNamespaceArray()) {
    if (ns.index === 0) continue;
    for (const node of ns._nodeid_index.values()) {
      nodes++;
      for (const ref of node.allReferences()) {
        if (!as.findNode(ref.nodeId)) problems.push(`${node.nodeId}: reference to ${ref.nodeId} does not resolve`);
      }
      if ((node.nodeClass === NodeClass.Object || node.nodeClass === NodeClass.Variable) && !node.typeDefinitionObj) {
        problems.push(`${node.nodeId}: no HasTypeDefinition`);
      }
      if (node.nodeClass === NodeClass.Variable && !as.findNode(node.dataType)) problems.push(`${node.nodeId}: unknown DataType ${node.dataType}`);
    }
  }
  as.dispose();
  for (const l of logged.slice(0, 20)) console.log(`loader: ${l.replace(/\s+/g, " ").slice(0, 300)}`);
  for (const p of problems.slice(0, 20)) console.log(`problem: ${p}`);
  if (problems.length || logged.length) {
    console.log(`error: ${problems.length} unresolved, ${logged.length} loader messages`);
    process.exit(1);
  }
  console.log(`ok nodes=${nodes}`);
  process.exit(0);
}

main().catch((e) => { console.log(`error: ${String(e.message).split("\n")[0]}`); process.exit(1); });
