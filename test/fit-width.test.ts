/**
 * fitWidth cuts changing text (log lines, details) so that Ink never has to: what it
 * returns must be no wider in Ink's own measure (string-width) than asked, or Ink wraps
 * the line (a log pane one line taller than planned) or truncates it (and keeps the cut
 * string forever).
 */
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { fitWidth, fitWidthMarked } from '../src/run/format.js';

const SAMPLES = [
  'plain ascii text of a compiler line -O3 -Wall',
  '✅ 12 passed ✅ 0 failed ⭐ ☕ ⌚ done',
  'status: ☺\uFE0F ok ☺ ok', // a narrow character made wide by the emoji variation selector
  '中文日志输出：编译完成，没有错误',
  'ｱｲｳｴｵ halfwidth katakana',
  '한국어 로그 출력',
  'café naïve e\u0301 combining',
  'flags 🇯🇵🇩🇪 keycap 1\uFE0F\u20E3 family 👨\u200D👩\u200D👧 skin 👍🏽',
  '🙂🙂🙂 emoji 🚀 rocket 🌡 thermometer 🌡\uFE0F',
  '𠀀𠀁 extension B',
  'soft\u00ADhyphen zero\u200Bwidth',
];

describe('fitWidth', () => {
  it('never returns text wider, in Ink\'s measure, than the columns it was given', () => {
    for (const text of SAMPLES) {
      for (let width = 0; width <= 60; width++) {
        const fitted = fitWidth(text, width);
        expect({ text, width, w: stringWidth(fitted) <= width }).toEqual({ text, width, w: true });
        expect(text.startsWith(fitted)).toBe(true);
        const marked = fitWidthMarked(text, width);
        expect({ text, width, w: stringWidth(marked) <= width }).toEqual({ text, width, w: true });
      }
    }
  });

  it('uses the columns it has: ASCII to the column, wide characters two at a time', () => {
    expect(fitWidth('abcdefghij', 4)).toBe('abcd');
    expect(fitWidth('中文日志输出', 5)).toBe('中文');
    expect(fitWidth('✅✅✅✅', 5)).toBe('✅✅');
    expect(fitWidth('ｱｲｳｴｵ', 3)).toBe('ｱｲｳ');
    expect(fitWidth('e\u0301e\u0301e\u0301', 2)).toBe('e\u0301e\u0301');
  });
});
