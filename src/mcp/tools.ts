/**
 * MCP tools from the operations' declarations: each declaration with an
 * `mcp` binding is offered as that tool; declarations naming the same tool
 * are one tool (`claim` with an id claims it, without one the next ready
 * task), and a call runs the one whose required inputs it gives. The input
 * schema is the declared fields minus agent arguments (the server acts as
 * its own identity), kept small: every schema is paid for in every session.
 */
import { OrchestratorError } from '../errors.js';
import { offered, type AnyDeclaration, type FieldDef } from '../api/declare.js';
import { DECLARATIONS } from '../api/ops/index.js';

export interface JsonSchema {
  type: string;
  description?: string;
  items?: JsonSchema;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export interface Tool {
  name: string;
  description: string;
  inputSchema: JsonSchema & { type: 'object' };
  annotations?: { readOnlyHint?: boolean };
  /** Most required inputs first: the first whose required inputs a call gives runs. */
  declarations: AnyDeclaration[];
}

const TYPES: Record<FieldDef['kind'], string> = {
  string: 'string',
  int: 'integer',
  bool: 'boolean',
  list: 'array',
  json: 'object',
  duration: 'integer',
  agent: 'string',
  callback: 'object',
};

function fields(d: AnyDeclaration): Array<[string, FieldDef]> {
  return Object.entries(d.input as Record<string, { def: FieldDef }>)
    .map(([name, f]) => [name, f.def] as [string, FieldDef])
    .filter(([, def]) => !def.internal && def.kind !== 'agent' && offered(def, 'mcp'));
}

function mcpDefault(def: FieldDef): unknown {
  return def.defaults && 'mcp' in def.defaults ? def.defaults.mcp : def.default;
}

/** Inputs a call must give (no default, not an agent). */
export function requiredOf(d: AnyDeclaration): string[] {
  return fields(d)
    .filter(([, def]) => !def.optional)
    .map(([name]) => name);
}

function schemaOf(def: FieldDef): JsonSchema {
  const s: JsonSchema = { type: TYPES[def.kind], description: def.summary };
  if (def.kind === 'list') s.items = { type: 'string' };
  const d = mcpDefault(def);
  if (d !== undefined && !(Array.isArray(d) && !d.length) && !(typeof d === 'object' && d && !Object.keys(d).length)) s.default = d;
  return s;
}

/** The tools, in declaration order. */
export function buildTools(declarations: readonly AnyDeclaration[] = DECLARATIONS as readonly AnyDeclaration[]): Tool[] {
  const byTool = new Map<string, AnyDeclaration[]>();
  for (const d of declarations) {
    if (!d.mcp) continue;
    byTool.set(d.mcp.tool, [...(byTool.get(d.mcp.tool) ?? []), d]);
  }
  return [...byTool].map(([name, ds]) => {
    ds.sort((a, b) => requiredOf(b).length - requiredOf(a).length);
    const properties: Record<string, JsonSchema> = {};
    for (const d of ds) for (const [field, def] of fields(d)) properties[field] ??= schemaOf(def);
    const required = requiredOf(ds[ds.length - 1]);
    // "write a topic; without content: read a topic; without topic: list topics"
    const description = ds
      .map((d, i) => {
        if (i === 0) return d.summary;
        const missing = requiredOf(ds[i - 1]).filter((f) => !requiredOf(d).includes(f));
        return `without ${missing.join(', ')}: ${d.summary}`;
      })
      .join('; ');
    const inputSchema: Tool['inputSchema'] = { type: 'object', properties };
    if (required.length) inputSchema.required = required;
    const tool: Tool = { name, description, inputSchema, declarations: ds };
    if (ds.every((d) => d.kind === 'read')) tool.annotations = { readOnlyHint: true };
    return tool;
  });
}

/** The declaration a call runs: the first whose required inputs it gives. */
export function pick(tool: Tool, args: Record<string, unknown>): AnyDeclaration {
  const given = (f: string) => args[f] !== undefined && args[f] !== null;
  const d = tool.declarations.find((x) => requiredOf(x).every(given));
  if (!d) {
    const missing = requiredOf(tool.declarations[tool.declarations.length - 1]).filter((f) => !given(f));
    throw new OrchestratorError('INVALID_INPUT', `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required`, { field: missing[0] });
  }
  return d;
}

/** What tools/list answers (without the declarations). */
export function listed(tools: Tool[]): Array<Omit<Tool, 'declarations'>> {
  return tools.map(({ declarations: _d, ...t }) => t);
}
