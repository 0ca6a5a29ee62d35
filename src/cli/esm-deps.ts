/**
 * ES-only dependencies that modules import statically, loaded before those modules.
 *
 * The installed CLI is a CommonJS bundle (src/setup/bundle.ts: V8's code cache needs a
 * script, not a module), where a static `import ... from 'ink'` becomes `require('ink')`.
 * Ink is an ES module with top-level await (yoga-layout), which require() cannot load:
 * the launcher (launch.ts) answers such a require() with the namespace an earlier
 * `import()` of it gave. So whatever loads `tui/` awaits this first. Run from tsc's
 * `dist/src/` or the sources, it only imports Ink a little earlier than otherwise.
 */
export async function loadInk(): Promise<void> {
  // React's development build costs ~40% more CPU per frame; slime ships the TUI, not a
  // dev session. And in production the bundle's Ink is one file (src/setup/bundle.ts).
  process.env.NODE_ENV ??= 'production';
  await import('ink');
}
