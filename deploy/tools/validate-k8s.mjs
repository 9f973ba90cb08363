// Validates every object of a multi-document YAML file (e.g. the output of
// `kubectl kustomize deploy/k8s`) against the Kubernetes OpenAPI schemas
// bundled in the kubernetes-models package (no cluster, no download).
// usage: node validate-k8s.mjs FILE.yaml ; exit 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function dropNulls(v) {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) o[k] = dropNulls(x);
    return o;
  }
  return v;
}

const file = process.argv[2];
const docs = parseAllDocuments(readFileSync(file, "utf8"));
let errors = 0, count = 0;
for (const d of docs) {
  if (d.errors.length > 0) {
    console.error(`${file}: YAML error: ${d.errors[0].message}`);
    errors++;
    continue;
  }
  // null means "not set" to the API server (old kustomize writes some).
  const obj = dropNulls(d.toJS());
  if (obj == null) continue;
  count++;
  const where = `${obj.kind}/${obj.metadata?.name}`;
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    console.error(`${file}: object without apiVersion/kind`);
    errors++;
    continue;
  }
  // "v1" -> "v1/Kind"; "apps/v1" -> "apps/v1/Kind"
  const path = `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
  let mod;
  try {
    mod = await import(path);
  } catch (e) {
    console.error(`${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
    errors++;
    continue;
  }
  const Model = mod[obj.kind];
  try {
    new Model(obj).validate();
  } catch (e) {
    console.error(`${where}: ${e.message}`);
    errors++;
  }
}
if (count === 0) {
  console.error(`${file}: no objects`);
  errors++;
}
console.log(`${count} objects checked against the Kubernetes schemas, ${errors} errors`);
process.exit(errors === 0 ? 0 : 1);
