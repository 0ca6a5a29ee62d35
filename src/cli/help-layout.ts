/**
 * One layout for every command's `--help`, whoever wrote its text: in an `Options:`
 * block each option starts at column 2 (`-x, --long ARG`, or `    --long ARG` without a
 * short form) and its description at column 24, continuation lines under it; the
 * description starts lower case with no closing period, like every other slime message.
 *
 *   option-line  = "  " [ "-" letter ", " | "    " ] "--" name [ " " ARG [ "=" ARG ] ] 2*" " description
 *   continuation = 3*" " text          (inside the block, under the description)
 */
const DESCRIPTION_COLUMN = 24;

export function layoutHelp(text: string): string {
  const out: string[] = [];
  let inOptions = false;
  for (const line of text.split('\n')) {
    if (/^Options:\s*$/.test(line)) {
      inOptions = true;
      out.push(line);
      continue;
    }
    if (inOptions && line.trim() === '') inOptions = false;
    if (!inOptions) {
      out.push(line);
      continue;
    }
    const option = /^\s*(-[A-Za-z], )?(--[a-z][a-z0-9-]*(?:[ =][A-Z][A-Z0-9_.]*(?:=[A-Z][A-Z0-9_.]*)?)?)\s{2,}(\S.*)$/.exec(line);
    if (option !== null) {
      const flags = `  ${(option[1] ?? '').padEnd(4)}${option[2]}`;
      // Flags too long for the column get a line of their own, the description under it.
      if (flags.length > DESCRIPTION_COLUMN - 2) out.push(flags, `${' '.repeat(DESCRIPTION_COLUMN)}${sentenceCase(option[3]!)}`);
      else out.push(`${flags.padEnd(DESCRIPTION_COLUMN)}${sentenceCase(option[3]!)}`);
      continue;
    }
    const shortOnly = /^\s*(-[A-Za-z])(?:, (--[a-z][a-z-]*))?\s{2,}(\S.*)$/.exec(line);
    if (shortOnly !== null) {
      const flags = `  ${shortOnly[1]}${shortOnly[2] !== undefined ? `, ${shortOnly[2]}` : ''}`;
      out.push(`${flags.padEnd(DESCRIPTION_COLUMN)}${sentenceCase(shortOnly[3]!)}`);
      continue;
    }
    out.push(`${' '.repeat(DESCRIPTION_COLUMN)}${line.trim()}`);
  }
  return out.join('\n');
}

/** `Show this text.` -> `show this text`; `SHA-256 of ...` keeps its capitals. */
function sentenceCase(text: string): string {
  const lowered = /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
  return lowered.endsWith('..') ? lowered : lowered.replace(/\.$/, '');
}
