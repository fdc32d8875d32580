// Give BPMN files that have no diagram (bpmndi) one, laid out by bpmn-auto-layout, so that
// bpmn-js can draw them. Files that already have a diagram are left alone.
//
//   node scripts/layout_bpmn.mjs bpmn/*.bpmn
//
// The product's own files are laid out once and committed; designers' files come from the
// modeler with their diagram already.
import { readFileSync, writeFileSync } from "node:fs";
import { layoutProcess } from "bpmn-auto-layout";

for (const path of process.argv.slice(2)) {
  const xml = readFileSync(path, "utf8");
  if (xml.includes("BPMNDiagram")) {
    console.log(`${path}: has a diagram`);
    continue;
  }
  writeFileSync(path, await layoutProcess(xml));
  console.log(`${path}: laid out`);
}
