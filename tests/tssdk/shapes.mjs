// The response types @vapi-ai/server-sdk declares in its .d.mts files, read at run time, and a check of an
// answer against one of them. The SDK (2.x) returns the JSON body as it came, unvalidated: what TypeScript
// code written against its types reads is only right when the answer has the declared shape, so this is
// the check: required properties present, scalars of the declared JSON type, enum values among the
// declared ones, every union member tried (the answer passes when one member accepts it).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (name.endsWith(".d.mts")) out.push(path);
  }
  return out;
}

function closing(text, open) {
  // The index of the brace that closes the one at `open`.
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  throw new Error("unbalanced braces");
}

function splitTop(text, sep) {
  // `text` split on `sep` outside brackets, braces, parentheses and angle brackets.
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ("([{<".includes(c)) depth++;
    else if (")]}>".includes(c)) depth--;
    else if (c === sep && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

function properties(body) {
  const props = [];
  for (const member of splitTop(body, ";")) {
    const m = /^(?:readonly\s+)?("?[\w$-]+"?)(\?)?\s*:\s*([\s\S]+)$/.exec(member);
    if (m) props.push({ name: m[1].replace(/"/g, ""), optional: Boolean(m[2]), type: m[3].trim() });
  }
  return props;
}

function declarations(text, prefix, types) {
  const re = /(?:export\s+)?(?:declare\s+)?(interface|type|const|namespace)\s+(\w+)/g;
  let m;
  while ((m = re.exec(text))) {
    const [kind, name] = [m[1], prefix + m[2]];
    if (kind === "interface") {
      const open = text.indexOf("{", re.lastIndex);
      const head = text.slice(re.lastIndex, open);
      const ext = /extends\s+([\s\S]+)/.exec(head);
      const end = closing(text, open);
      types[name] = { kind: "interface", extends: ext ? splitTop(ext[1], ",") : [], props: properties(text.slice(open + 1, end)) };
      re.lastIndex = end + 1;
    } else if (kind === "namespace") {
      const open = text.indexOf("{", re.lastIndex);
      const end = closing(text, open);
      declarations(text.slice(open + 1, end), `${name}.`, types);
      re.lastIndex = end + 1;
    } else if (kind === "const") {
      const open = text.indexOf("{", re.lastIndex);
      const end = closing(text, open);
      types[name] = { kind: "enum", values: [...text.slice(open, end).matchAll(/:\s*"([^"]*)"/g)].map((v) => v[1]) };
      re.lastIndex = end + 1;
    } else {
      const eq = text.indexOf("=", re.lastIndex);
      let i = eq + 1, depth = 0;
      for (; i < text.length; i++) {
        const c = text[i];
        if ("([{<".includes(c)) depth++;
        else if (")]}>".includes(c)) depth--;
        else if (c === ";" && depth === 0) break;
      }
      const expr = text.slice(eq + 1, i).trim();
      if (!expr.startsWith("(typeof") && !(name in types)) types[name] = { kind: "alias", type: expr };
      re.lastIndex = i + 1;
    }
  }
}

export function readTypes(sdkDir) {
  const types = {};
  for (const path of files(join(sdkDir, "dist", "esm", "api"))) {
    if (basename(path).startsWith("index.")) continue;
    const text = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    declarations(text, "", types);
  }
  return types;
}

const MAX_DEPTH = 12;

export class Shapes {
  constructor(types) {
    this.types = types;
  }

  /** How `value` breaks the declared type expression `expr` (empty when it fits). */
  check(value, expr, path = "", depth = 0) {
    expr = expr.trim();
    while (expr.startsWith("(") && expr.endsWith(")") && splitTop(expr.slice(1, -1), "|").length >= 1 && balanced(expr.slice(1, -1))) expr = expr.slice(1, -1).trim();
    let alternatives = splitTop(expr, "|");
    if (value !== undefined && value !== null && alternatives.length > 1) alternatives = alternatives.filter((alt) => alt !== "undefined" && alt !== "null");
    if (alternatives.length === 1 && alternatives[0] !== expr) return this.check(value, alternatives[0], path, depth);
    if (alternatives.length > 1) {
      let best = null;
      for (const alt of alternatives) {
        const problems = this.check(value, alt, path, depth);
        if (!problems.length) return [];
        if (best === null || weight(problems) < weight(best)) best = problems;
      }
      return alternatives.length > 2 ? [`${path || "."}: fits none of ${alternatives.length} members (closest: ${best[0]})`] : best;
    }
    const where = path || ".";
    if (depth > MAX_DEPTH || expr === "unknown" || expr === "any") return [];
    if (expr === "undefined") return value === undefined ? [] : [`${where}: undefined declared, ${kind(value)} sent`];
    if (expr === "null") return value === null ? [] : [`${where}: null declared, ${kind(value)} sent`];
    if (["string", "number", "boolean"].includes(expr)) return typeof value === expr ? [] : [`${where}: ${expr} declared, ${kind(value)} sent`];
    if (/^".*"$/.test(expr)) return value === JSON.parse(expr) ? [] : [`${where}: ${expr} declared, ${JSON.stringify(value)} sent`];
    if (expr.endsWith("[]")) {
      if (!Array.isArray(value)) return [`${where}: array declared, ${kind(value)} sent`];
      return value.flatMap((item, i) => this.check(item, expr.slice(0, -2), at(path, i), depth + 1));
    }
    const record = /^Record<\s*string\s*,\s*([\s\S]+)>$/.exec(expr);
    if (record) {
      if (kind(value) !== "object") return [`${where}: object declared, ${kind(value)} sent`];
      return Object.entries(value).flatMap(([k, v]) => this.check(v, record[1], at(path, k), depth + 1));
    }
    if (expr.startsWith("{")) return kind(value) === "object" ? [] : [`${where}: object declared, ${kind(value)} sent`];
    const name = expr.replace(/^Vapi\./, "");
    const type = this.types[name];
    if (!type) return [];
    if (type.kind === "alias") return this.check(value, type.type, path, depth);
    if (type.kind === "enum") return type.values.includes(value) ? [] : [`${where}: one of ${type.values.slice(0, 8).join(", ")}${type.values.length > 8 ? ", ..." : ""} declared, ${JSON.stringify(value)} sent`];
    if (kind(value) !== "object") return [`${where}: ${name} (an object) declared, ${kind(value)} sent`];
    return this.fields(value, name, path, depth);
  }

  fields(value, name, path, depth) {
    const type = this.types[name];
    const props = new Map();
    const collect = (t) => {
      for (const parent of t.extends) if (this.types[parent.replace(/^Vapi\./, "")]) collect(this.types[parent.replace(/^Vapi\./, "")]);
      for (const p of t.props) props.set(p.name, p);
    };
    collect(type);
    const out = [];
    for (const p of props.values()) {
      if (!(p.name in value)) {
        if (!p.optional) out.push(`${at(path, p.name)}: required by ${name}, missing`);
        continue;
      }
      out.push(...this.check(value[p.name], p.type, at(path, p.name), depth + 1));
    }
    return out;
  }
}

function at(path, key) {
  return path ? `${path}.${key}` : String(key);
}

function balanced(text) {
  let depth = 0;
  for (const c of text) {
    if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

function weight(problems) {
  // A member whose tag (an enum or a literal) differs is a worse guess than one missing a field.
  return problems.reduce((sum, p) => sum + (/declared, "/.test(p) ? 100 : 1), 0);
}

function kind(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
