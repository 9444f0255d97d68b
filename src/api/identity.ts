/**
 * The acting identity: who a call acts as when it names no agent. Every
 * agent argument of every operation (declare.ts, `f.agent`) defaults to it,
 * in the library, the CLI, REST and MCP, so changing where it comes from or
 * whether agent arguments may be left out is a change to this file only.
 */

/**
 * Whether agent arguments may be left out everywhere (then the acting agent
 * acts). While false, those that were required stay required (the CLI's
 * `<agent>`); the type and the value go together.
 */
export type AgentArgsOptional = false;
export const AGENT_ARGS_OPTIONAL: AgentArgsOptional = false;

export interface IdentitySources {
  /** Named for this call: the library's `agent` option, the CLI's `--as`. */
  agent?: string;
  /** The environment the CLI and the MCP server run in (the library reads none). */
  env?: Record<string, string | undefined>;
  /** A directory of the repository (for identity kept in its git config). */
  repo?: string;
}

/** The acting agent: `--as` (or the `agent` option), else ORCHESTRATOR_AGENT; undefined when none is set. */
export async function actingAgent(sources: IdentitySources): Promise<string | undefined> {
  return sources.agent || sources.env?.ORCHESTRATOR_AGENT || undefined;
}
