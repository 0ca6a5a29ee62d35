/**
 * The measuring harness of `slime bench`: one long-lived host python3 that starts each
 * timed run and reaps it with wait4(2), so every run has the child's own rusage (user
 * and system CPU time, to the microsecond, and its peak RSS) besides its wall time.
 * Node cannot give a child's rusage (libuv reaps children itself, and
 * process.resourceUsage() is the calling process's own), and `/usr/bin/time` prints
 * CPU times only to the hundredth of a second, too coarse for a 20 ms sample.
 *
 * The harness is started once, so its own start-up is never timed; wall time is taken
 * around posix_spawn + wait4 inside it (perf_counter_ns), away from Node's event loop.
 * The child gets /dev/null as stdin, stdout and stderr, the given cwd and exactly the
 * given environment.
 *
 * Protocol, one JSON document per line each way, strictly one answer per request:
 *
 *   request  = {"argv": [path, arg...], "cwd": dir, "env": {name: value...}}
 *   answer   = {"wallNs": n, "userUs": n, "sysUs": n, "maxRssKb": n, "status": n}
 *            | {"error": message}
 *
 * `status` is os.waitstatus_to_exitcode: the exit code, or -N when signal N ended it.
 * `error` means the run could not be started (cwd or program missing, not executable).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';
import { SlimeError } from '../errors.js';

export interface Measured {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssKb: number;
  status: number;
}

const HARNESS = String.raw`
import json, os, sys, time
devnull = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
for line in sys.stdin:
    req = json.loads(line)
    try:
        os.chdir(req["cwd"])
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(req["argv"][0], req["argv"], req["env"], file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
    except OSError as e:
        answer = {"error": f"{e.filename or req['argv'][0]}: {e.strerror}"}
    else:
        answer = {"wallNs": t1 - t0, "userUs": round(ru.ru_utime * 1e6), "sysUs": round(ru.ru_stime * 1e6),
                  "maxRssKb": ru.ru_maxrss, "status": os.waitstatus_to_exitcode(status)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
`;

interface Answer {
  wallNs?: number;
  userUs?: number;
  sysUs?: number;
  maxRssKb?: number;
  status?: number;
  error?: string;
}

export class Harness {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (a: Answer) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private gone: Error | undefined;

  /** `python` runs the harness: a host python3 (>= 3.9, for waitstatus_to_exitcode); Debian's python3.11, which the setup installs as the reference. */
  constructor(readonly python = '/usr/bin/python3.11') {
    this.child = spawn(python, ['-I', '-S', '-c', HARNESS], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.child.on('error', (e) => this.fail(new SlimeError(`cannot start the bench harness ${python}: ${e.message}; install python3.11 (the setup does)`)));
    this.child.on('close', (code) => this.fail(new SlimeError(`the bench harness ${python} exited (${code})${this.stderr ? `: ${this.stderr.trim().split('\n').pop()}` : ''}`)));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      try {
        w.resolve(JSON.parse(line) as Answer);
      } catch {
        w.reject(new SlimeError(`the bench harness answered ${JSON.stringify(line.slice(0, 80))}, not JSON`));
      }
    });
  }

  private fail(e: Error): void {
    this.gone ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.gone);
  }

  /** Runs `argv` to its end and measures it; rejects when it cannot be started at all. */
  run(argv: string[], cwd: string, env: Record<string, string>): Promise<Measured> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify({ argv, cwd, env }) + '\n');
    }).then((a) => {
      if (a.error !== undefined) throw new SlimeError(`cannot run ${argv[0]}: ${a.error}`);
      return { wallMs: a.wallNs! / 1e6, userMs: a.userUs! / 1e3, sysMs: a.sysUs! / 1e3, maxRssKb: a.maxRssKb!, status: a.status! };
    });
  }

  /** Ends the harness (it exits at the end of its input). */
  close(): void {
    this.gone ??= new SlimeError('the bench harness was closed');
    this.child.stdin.end();
  }
}
