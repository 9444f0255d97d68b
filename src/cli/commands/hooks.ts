/** `hooks`: guard a shared repository with the pre-receive check. */
import { ExitQuietly } from '../context.js';
import { room } from '../room.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export default room({
  customNames: ['hooks'],
  custom: (program, ctx) => {
    const hooks = program.command('hooks').description('guard a shared repository (the bare remote) with a pre-receive hook');
    hooks
      .command('install <repo>')
      .description('install the hook: refuses deletion, non-fast-forward updates and commits that do not replay on their parent')
      .option('--branch <names>', 'comma-separated branches to guard (default: the coordination branch)')
      .action(async (repo: string, o: { branch?: string }) => {
        const { installHook } = await import('../../hooks/install.js');
        const branches = o.branch ? list(o.branch) : [ctx.globals().branch ?? ctx.io.env.ORCHESTRATOR_BRANCH ?? 'orchestrator'];
        const r = await installHook(repo, branches);
        ctx.print({ json: r, text: `${r.replaced ? 'Reinstalled' : 'Installed'} the pre-receive hook in ${r.repo}, guarding ${r.branches.join(', ')}${r.chained ? ' (the existing hook runs first)' : ''}` });
      });
    hooks
      .command('uninstall <repo>')
      .description('remove the hook (a hook that was there before comes back)')
      .action(async (repo: string) => {
        const { uninstallHook } = await import('../../hooks/install.js');
        const r = await uninstallHook(repo);
        ctx.print({ json: r, text: `Removed the pre-receive hook from ${r.repo}${r.restored ? ' (the previous hook is back)' : ''}` });
      });
    hooks
      .command('pre-receive', { hidden: true })
      .action(async () => {
        const { checkPush } = await import('../../hooks/pre-receive.js');
        const guarded = list(ctx.io.env.ORCHESTRATOR_GUARD_BRANCHES ?? 'orchestrator');
        const refusals = await checkPush(await ctx.io.stdin(), guarded, ctx.io.cwd);
        for (const r of refusals) ctx.io.stderr(`orchestrator: ${r.message}\n`);
        if (refusals.length) throw new ExitQuietly(1);
      });
  },
});
