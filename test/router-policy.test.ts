/** The router's policy, as pure data in and a decision out. */
import { describe, expect, it } from 'vitest';
import { route, type RouteInput } from '../src/router/policy.js';

const base: RouteInput = {
  requested: 'auto',
  platform: 'native',
  budgetMs: 1000,
  scriptHash: 'h',
  scriptInWorkingDir: true,
  analysis: { ok: true, signals: [], imports: ['json'] },
  light: { missingModules: { _thread: 'No module named _thread', threading: 'No module named _thread' }, differingSamples: {} },
  profile: { lightRuns: 0, fullRuns: 0 },
};

const sig = (kind: 'exception-text' | 'dynamic-code' | 'hot-loop' | 'unknown-bound' | 'recursion') => ({
  ...base,
  analysis: { ok: true as const, signals: [{ kind, line: 3, detail: 'x' }], imports: [] },
});

describe('router policy', () => {
  it('sends a script with no signal against it to Light', () => {
    expect(route(base).tier).toBe('light');
  });

  it('sends exception text and dynamic code to Full (soundness), and hot loops to Full (speed)', () => {
    expect(route(sig('exception-text')).tier).toBe('full');
    expect(route(sig('dynamic-code')).tier).toBe('full');
    expect(route(sig('hot-loop')).tier).toBe('full');
  });

  it('leaves unknown bounds and recursion to the profile', () => {
    expect(route(sig('unknown-bound')).tier).toBe('light');
    expect(route(sig('recursion')).tier).toBe('light');
  });

  it('sends a script importing a module the Light tier lacks to Full, a submodule included', () => {
    const d = route({ ...base, analysis: { ok: true, signals: [], imports: ['threading.Thread'] } });
    expect(d.tier).toBe('full');
    expect(d.reasons.map((r) => r.detail).join()).toContain('No module named _thread');
  });

  it("sends a program the Light tier's sample comparison found different to Full", () => {
    const d = route({ ...base, scriptHash: 'abc', light: { ...base.light!, differingSamples: { abc: 'stderr line 3 differs' } } });
    expect(d.tier).toBe('full');
    expect(d.reasons.find((r) => r.effect === 'needs-full')).toMatchObject({
      kind: 'sample-comparison',
      detail: "the Light tier's sample comparison found this program different: stderr line 3 differs",
    });
  });

  it('sends a script that does not parse to Full', () => {
    expect(route({ ...base, analysis: { ok: false, error: 'invalid syntax', line: 2 } }).tier).toBe('full');
  });

  it('learns from the profile: a Light run over the budget sends the script to Full next time', () => {
    expect(route({ ...base, profile: { lightRuns: 1, lightMaxMs: 400, fullRuns: 0 } }).tier).toBe('light');
    const d = route({ ...base, profile: { lightRuns: 1, lightMaxMs: 4000, fullRuns: 0 } });
    expect(d.tier).toBe('full');
    expect(d.reasons.find((r) => r.kind === 'profile')?.detail).toContain('4000 ms, over the 1000 ms budget');
  });

  it('on --platform wasm runs only Light: refuses what Light cannot run soundly, runs hot loops anyway', () => {
    const refused = route({ ...sig('exception-text'), platform: 'wasm' });
    expect(refused.tier).toBe('refused');
    expect(refused.tier === 'refused' && refused.why).toContain('exception text');
    expect(route({ ...sig('hot-loop'), platform: 'wasm' }).tier).toBe('light');
    expect(route({ ...base, requested: 'full', platform: 'wasm' }).tier).toBe('refused');
  });

  it('honours --tier, and chooses Full when the Light tier is not realized', () => {
    expect(route({ ...sig('exception-text'), requested: 'light' }).tier).toBe('light');
    expect(route({ ...base, requested: 'full' }).tier).toBe('full');
    expect(route({ ...base, light: undefined }).tier).toBe('full');
  });
});

describe('router policy: the Light sandbox', () => {
  it('sends a script outside the working directory to Full: the sandbox would not see it', () => {
    const d = route({ ...base, scriptInWorkingDir: false });
    expect(d.tier).toBe('full');
    expect(d.reasons.find((r) => r.kind === 'sandbox')?.detail).toContain('outside the working directory');
  });
});
