/**
 * `slime completion bash|zsh|fish`: a completion script for the shell. Commands and
 * each command's options are written into the script; targets are asked for when
 * completing (`slime targets --names`), so they follow the module as it changes.
 */
import { UsageError } from '../../errors.js';
import type { CliContext, Command } from '../command.js';
import { parseCommandArgs } from '../options.js';

const help = `Usage: slime completion SHELL

Prints a completion script for SHELL (bash, zsh or fish): commands, their options,
and the targets of the derivation module (read when completing, from
\`slime targets --names\`).

  bash:  source <(slime completion bash)          (or save it in ~/.local/share/bash-completion/completions/slime)
  zsh:   source <(slime completion zsh)           (after compinit)
  fish:  slime completion fish > ~/.config/fish/completions/slime.fish

Options:
      --help            this text`;

/** Commands whose positional arguments are targets. */
const TAKES_TARGETS = ['realize', 'realise', 'show', 'graph', 'log', 'bench', 'diff', 'why-depends'];

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseCommandArgs('completion', args, {});
  const shell = positionals[0];
  if (positionals.length !== 1 || !['bash', 'zsh', 'fish'].includes(shell!)) {
    throw new UsageError('slime completion takes one SHELL: bash, zsh or fish');
  }
  const { commandAndAliasNames, optionsOf } = await import('../main.js');
  const commands = commandAndAliasNames();
  const options: Record<string, string[]> = {};
  for (const c of commands) options[c] = await optionsOf(c);
  ctx.stdout.write(shell === 'bash' ? bash(commands, options) : shell === 'zsh' ? zsh(commands, options) : fish(commands, options));
  return 0;
}

function bash(commands: string[], options: Record<string, string[]>): string {
  const cases = commands.map((c) => `    ${c}) opts="${options[c]!.join(' ')}" ;;`).join('\n');
  return `# slime bash completion: source <(slime completion bash)
_slime() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [[ " ${TAKES_TARGETS.join(' ')} " == *" $cmd "* ]]; then
    COMPREPLY=( $(compgen -W "$(slime targets --names 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -F _slime slime
`;
}

function zsh(commands: string[], options: Record<string, string[]>): string {
  const cases = commands.map((c) => `    ${c}) opts=(${options[c]!.join(' ')}) ;;`).join('\n');
  return `#compdef slime
# slime zsh completion: source <(slime completion zsh)
_slime() {
  local -a opts
  if (( CURRENT == 2 )); then
    compadd -- ${commands.join(' ')}
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $opts
  elif [[ " ${TAKES_TARGETS.join(' ')} " == *" \${words[2]} "* ]]; then
    compadd -- \${(f)"$(slime targets --names 2>/dev/null)"}
    _files
  else
    _files
  fi
}
compdef _slime slime
`;
}

function fish(commands: string[], options: Record<string, string[]>): string {
  const lines = [
    '# slime fish completion: slime completion fish > ~/.config/fish/completions/slime.fish',
    'complete -c slime -f',
    `complete -c slime -n __fish_use_subcommand -a "${commands.join(' ')}"`,
  ];
  for (const c of commands) {
    for (const o of options[c]!) {
      const flag = o.startsWith('--') ? `-l ${o.slice(2)}` : `-s ${o.slice(1)}`;
      lines.push(`complete -c slime -n "__fish_seen_subcommand_from ${c}" ${flag}`);
    }
  }
  lines.push(`complete -c slime -n "__fish_seen_subcommand_from ${TAKES_TARGETS.join(' ')}" -a "(slime targets --names 2>/dev/null)"`);
  lines.push(`complete -c slime -n "__fish_seen_subcommand_from ${TAKES_TARGETS.join(' ')}" -F`);
  return lines.join('\n') + '\n';
}

const command: Command = { summary: 'print a shell completion script (bash, zsh, fish)', help, run };
export default command;
