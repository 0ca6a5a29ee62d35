/**
 * A binary cache in a local directory (`file:///dir`), as Nix's `file://` store.
 * Every file is written to a temporary name in the same directory and renamed into
 * place, so a reader sees it whole or not at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BinaryCache, type CacheFile, CacheError, isSafeRelativePath } from './binary-cache.js';

export class FileCache implements BinaryCache {
  readonly root: string;
  readonly stagingDir: string;

  constructor(readonly url: string) {
    const u = new URL(url);
    u.search = '';
    this.root = fileURLToPath(u).replace(/\/+$/, '');
    this.stagingDir = path.join(this.root, 'nar');
  }

  private fileFor(rel: string): string {
    if (!isSafeRelativePath(rel)) throw new CacheError(`binary cache ${this.url}: refusing path ${JSON.stringify(rel)}, which leaves the cache`);
    return path.join(this.root, rel);
  }

  async getFile(rel: string): Promise<CacheFile | undefined> {
    const file = this.fileFor(rel);
    let fd: fs.promises.FileHandle;
    try {
      fd = await fs.promises.open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new CacheError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const st = await fd.stat();
    if (!st.isFile()) {
      await fd.close();
      throw new CacheError(`${file} is not a regular file`);
    }
    return { body: fd.createReadStream({ highWaterMark: 1 << 20 }), size: st.size };
  }

  async hasFile(rel: string): Promise<boolean> {
    try {
      return (await fs.promises.stat(this.fileFor(rel))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new CacheError(`cannot read ${this.fileFor(rel)}: ${(e as Error).message}`);
    }
  }

  private tempBeside(file: string): string {
    return `${path.dirname(file)}/.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  }

  async putFile(rel: string, localFile: string): Promise<void> {
    const file = this.fileFor(rel);
    await this.mkdirFor(file);
    const temp = this.tempBeside(file);
    try {
      try {
        await fs.promises.rename(localFile, temp);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        await fs.promises.copyFile(localFile, temp);
        await fs.promises.rm(localFile, { force: true });
      }
      await fs.promises.chmod(temp, 0o644);
      await fs.promises.rename(temp, file);
    } catch (e) {
      await fs.promises.rm(temp, { force: true });
      throw new CacheError(`cannot write ${file}: ${(e as Error).message}`);
    }
  }

  async putText(rel: string, text: string): Promise<void> {
    const file = this.fileFor(rel);
    await this.mkdirFor(file);
    const temp = this.tempBeside(file);
    try {
      await fs.promises.writeFile(temp, text, { mode: 0o644 });
      await fs.promises.rename(temp, file);
    } catch (e) {
      await fs.promises.rm(temp, { force: true });
      throw new CacheError(`cannot write ${file}: ${(e as Error).message}`);
    }
  }

  private async mkdirFor(file: string): Promise<void> {
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
    } catch (e) {
      throw new CacheError(`cannot create ${path.dirname(file)}: ${(e as Error).message}`);
    }
  }

  async listNarInfos(): Promise<string[] | undefined> {
    try {
      return (await fs.promises.readdir(this.root)).filter((f) => f.endsWith('.narinfo')).sort();
    } catch (e) {
      throw new CacheError(`cannot list ${this.root}: ${(e as Error).message}`);
    }
  }
}
