/** What the sandbox tests look at from the host: processes by their command line, and waiting on conditions. */
import fs from 'node:fs';
import net from 'node:net';

/** Host pids of the processes whose argv contains `marker` as one whole argument. */
export function processesWithArg(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      // A zombie has an empty command line and is gone for every purpose here.
    } catch {
      continue;
    }
    if (argv.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

/** A unique argument for `sleep`: a number of seconds no other process uses. */
export function uniqueSleep(): string {
  return `${4000 + Math.floor(Math.random() * 1000)}.${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what}: not reached in ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LedgerServer {
  port: number;
  /** One entry per connection: when it opened and closed (ms), and the first line the client sent. */
  connections: { opened: number; closed?: number; hello: string }[];
  /** Sends `text` to the open connections and closes them. */
  answer(text: string): void;
  /** The most connections that were open at the same time. */
  maxOpenAtOnce(): number;
  close(): Promise<void>;
}

/**
 * A TCP server on 127.0.0.1 that records who connected and when each connection
 * ended: a process that dies closes its socket, so the record is a ledger of
 * builder lifetimes kept outside every sandbox. With `reply`, it answers each
 * connection at once and closes it; otherwise it holds them until `answer`.
 */
export async function startLedgerServer(reply?: string): Promise<LedgerServer> {
  const connections: LedgerServer['connections'] = [];
  const open = new Set<net.Socket>();
  let openNow = 0;
  let maxOpen = 0;
  const server = net.createServer((socket) => {
    const entry: LedgerServer['connections'][number] = { opened: Date.now(), hello: '' };
    connections.push(entry);
    open.add(socket);
    maxOpen = Math.max(maxOpen, ++openNow);
    socket.on('data', (d) => {
      if (!entry.hello.includes('\n')) entry.hello += d.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      entry.closed = Date.now();
      openNow--;
      open.delete(socket);
    });
    if (reply !== undefined) socket.end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    answer: (text) => {
      for (const s of open) s.end(text);
    },
    maxOpenAtOnce: () => maxOpen,
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
