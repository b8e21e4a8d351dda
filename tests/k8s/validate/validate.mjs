// Validates Kubernetes objects against the API's OpenAPI schemas, offline: the models of
// the npm packages kubernetes-models (core APIs) and @kubernetes-models/prometheus-operator
// (ServiceMonitor, PrometheusRule). Reads multi-document YAML from each file named (or
// stdin) and prints one line per object. An object of a kind without a model is an error,
// so nothing passes unchecked.
//
//   node validate.mjs rendered.yaml...      exit 0 all valid, 1 any invalid, 2 usage
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const packages = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
};

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module = group === ""
    ? `kubernetes-models/${version}`
    : `${packages[group] ?? `kubernetes-models/${group}`}/${version}`;
  try {
    return (await import(module))[kind];
  } catch {
    return undefined;
  }
}

async function validateText(text, source) {
  let failures = 0;
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      console.log(`${source}: YAML error: ${document.errors[0].message}`);
      failures++;
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const name = `${object.kind}/${object.metadata?.name}`;
    const Model = object.apiVersion && object.kind
      ? await modelFor(object.apiVersion, object.kind)
      : undefined;
    if (!Model) {
      console.log(`${source}: ${name}: no schema for ${object.apiVersion} ${object.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(object).validate();
      console.log(`${source}: ${name}: valid`);
    } catch (error) {
      const details = (error.errors ?? [])
        .map((e) => `${e.instancePath || "/"} ${e.message}` +
          (e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""))
        .join("; ");
      console.log(`${source}: ${name}: INVALID: ${details || error.message}`);
      failures++;
    }
  }
  return failures;
}

const files = process.argv.slice(2);
if (files.some((f) => f.startsWith("-") && f !== "-")) {
  console.error("usage: node validate.mjs [FILE.yaml|-]...");
  process.exit(2);
}
let failures = 0;
for (const file of files.length > 0 ? files : ["-"]) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  failures += await validateText(text, file === "-" ? "stdin" : file);
}
process.exit(failures > 0 ? 1 : 0);
