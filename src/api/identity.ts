/**
 * The acting identity: who a call acts as when it names no agent. Every
 * agent argument of every operation (declare.ts, `f.agent`) defaults to it,
 * in the library, the CLI, REST and MCP, so changing where it comes from or
 * whether agent arguments may be left out is a change to this file only.
 *
 * Sources, first found wins: the call's own (`--as`, the library's `agent`
 * option), the environment (`ORCHESTRATOR_AGENT`, for the CLI and the MCP
 * server), then git's configuration (`git config orchestrator.agent`, read
 * as git reads it: the repository's, then the user's). With none, a change
 * is recorded as "system", never as another agent's.
 */
import { check } from '../domain/rules.js';

/**
 * Whether agent arguments may be left out everywhere (then the acting agent
 * acts; with none, a required one is refused with how to set one). The type
 * and the value go together.
 */
export type AgentArgsOptional = true;
export const AGENT_ARGS_OPTIONAL: AgentArgsOptional = true;

/** The git configuration key holding a clone's acting agent. */
export const CONFIG_KEY = 'orchestrator.agent';

/** How to set the acting agent, for messages. */
export const HOW_TO_SET = `--as <agent>, ORCHESTRATOR_AGENT or git config ${CONFIG_KEY} <agent>`;

export interface IdentitySources {
  /** Named for this call: the library's `agent` option, the CLI's `--as`. */
  agent?: string;
  /** The environment the CLI and the MCP server run in (the library reads none). */
  env?: Record<string, string | undefined>;
  /** A directory of the repository (for identity kept in its git config). */
  repo?: string;
  /** Reads a git configuration value as git does in `repo` (the session passes one that runs git). */
  gitConfig?: (dir: string, key: string) => string | undefined;
}

const checked = (value: string, source: string): string => check('agent', value, `acting agent (${source})`);

/** The acting agent: `--as` (or the `agent` option), else ORCHESTRATOR_AGENT, else git config orchestrator.agent; undefined when none is set. */
export async function actingAgent(sources: IdentitySources): Promise<string | undefined> {
  if (sources.agent) return checked(sources.agent, '--as');
  const env = sources.env?.ORCHESTRATOR_AGENT;
  if (env) return checked(env, 'ORCHESTRATOR_AGENT');
  // A process costs a few milliseconds: only when nothing else named the agent.
  const config = sources.repo && sources.gitConfig ? sources.gitConfig(sources.repo, CONFIG_KEY) : undefined;
  return config ? checked(config, `git config ${CONFIG_KEY}`) : undefined;
}
