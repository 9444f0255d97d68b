/**
 * Every declared operation, in the order the CLI's help and the reference
 * list them. The library facade, the CLI, the REST routes and the MCP tools
 * are built from this list.
 */
import * as workstream from './workstream.js';
import * as task from './task.js';
import * as agent from './agent.js';
import * as lock from './lock.js';
import * as knowledge from './knowledge.js';
import * as event from './event.js';
import * as runner from './runner.js';
import * as history from './history.js';
import * as branch from './branch.js';

export const GROUPS = { workstream, task, agent, lock, knowledge, event, runner, history, branch };

type Values<T> = T[keyof T];
export type DeclarationOf = Values<{ [G in keyof typeof GROUPS]: Values<(typeof GROUPS)[G]> }>;

export const DECLARATIONS: readonly DeclarationOf[] = Object.values(GROUPS).flatMap((g) => Object.values(g) as DeclarationOf[]);

const byName = new Map(DECLARATIONS.map((d) => [d.name, d]));

export function declaration(name: string): DeclarationOf {
  const d = byName.get(name);
  if (!d) throw new Error(`no declaration "${name}"`);
  return d;
}
