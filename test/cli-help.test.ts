/** `slime --help` prints each command's summary without loading the command: the copies in main.ts must stay true. */
import { describe, expect, it } from 'vitest';
import { commandNames, loadCommand, SUMMARIES } from '../src/cli/main.js';

describe('slime --help summaries', () => {
  it("equal each command module's own summary", async () => {
    for (const name of commandNames()) {
      const command = await loadCommand(name);
      // Every command has its copy: one missing would be loaded by every `slime --help`.
      expect(SUMMARIES[name], name).toBe(command!.summary);
    }
    for (const name of Object.keys(SUMMARIES)) expect(commandNames()).toContain(name);
  });
});
