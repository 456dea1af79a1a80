// Prints, as JSON, the properties of every interface in src/ whose doc comment names the API
// schema it mirrors (`@schema ProjectSkill`): {schema: {interface, file, properties: {name:
// {optional}}}}, `extends` followed within src/. tests/contract/test_web_types.py compares them
// with the OpenAPI document, so a field the server renamed or dropped fails there, not as a
// "NaN" on a worker's screen.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const root = new URL("..", import.meta.url).pathname;
const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);

const interfaces = new Map(); // name -> {node, file}
for (const file of files(join(root, "src"))) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, { node, file: relative(root, file) });
  });
}

function properties(name, seen = new Set()) {
  const found = interfaces.get(name);
  if (!found || seen.has(name)) return {};
  seen.add(name);
  const props = {};
  for (const clause of found.node.heritageClauses ?? []) {
    for (const type of clause.types) Object.assign(props, properties(type.expression.getText(), seen));
  }
  for (const member of found.node.members) {
    if (ts.isPropertySignature(member) && member.name) props[member.name.getText()] = { optional: Boolean(member.questionToken) };
  }
  return props;
}

const out = {};
for (const [name, { node, file }] of interfaces) {
  for (const tag of ts.getJSDocTags(node)) {
    if (tag.tagName.text !== "schema") continue;
    const comment = typeof tag.comment === "string" ? tag.comment : "";
    for (const schema of comment.split(/[\s,]+/).filter(Boolean)) out[schema] = { interface: name, file, properties: properties(name) };
  }
}
process.stdout.write(JSON.stringify(out, null, 1));
