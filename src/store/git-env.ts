/**
 * Environment for the git processes we start. Messages are parsed, so they
 * must be in English; an agent must never hang on a password prompt. Every
 * other variable (GIT_SSH_COMMAND, credentials helpers, a push quarantine's
 * object directories) passes through; the repository is always named
 * explicitly, so GIT_DIR and friends from a calling hook cannot redirect us.
 */
const DROP = new Set(['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_PREFIX']);

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!DROP.has(k)) env[k] = v;
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  if (env.GIT_TERMINAL_PROMPT === undefined) env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

// Editors and pagers never run for fetch or push; leaving them out keeps
// simple-git's guard from refusing a harmless EDITOR in the environment.
const NOT_FOR_TRANSFER = new Set(['EDITOR', 'VISUAL', 'GIT_EDITOR', 'PAGER', 'GIT_PAGER', 'GIT_SEQUENCE_EDITOR', 'PREFIX']);

/** The environment for fetch and push through simple-git. */
export function transferEnv(): NodeJS.ProcessEnv {
  const env = gitEnv();
  for (const k of Object.keys(env)) if (NOT_FOR_TRANSFER.has(k.toUpperCase())) delete env[k];
  return env;
}

/** Names of the GIT_* variables simple-git must let through (it strips them by default). */
export function allowedGitVariables(env: NodeJS.ProcessEnv = transferEnv()): string[] {
  return Object.keys(env).filter((k) => k.toUpperCase().startsWith('GIT_'));
}
