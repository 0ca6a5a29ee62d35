/**
 * The entry of the CLI bundle (`dist/bin/slime-cli.cjs`, src/setup/bundle.ts), which
 * the launcher `dist/bin/slime.cjs` (launch.ts) runs: the CLI, with this process's
 * arguments.
 */
import { runCli } from './main.js';

runCli();
