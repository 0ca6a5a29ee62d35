import os from 'node:os';

/** The default of -j and --cores: the processors this process may use. Apart, so that a no-op realize loads no builder. */
export const defaultCores = (): number => os.availableParallelism?.() ?? os.cpus().length;
