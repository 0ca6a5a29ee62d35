/**
 * What `slime check` reports about two builds of one output that differ: the data of
 * the `checked` event and of the check records (src/check/ finds it, src/check/diff-*.ts
 * per format). Plain data, in the foundation so that events and consumers can name it.
 */

export interface SectionDifference {
  /** The section's name; `#2` is appended to the second section of a repeated name. */
  name: string;
  change: 'content' | 'only-in-stored' | 'only-in-rebuilt';
  /** Where in the section the first differing byte is (content changes). */
  firstOffset?: number;
  size?: [number, number];
}

export interface ElfDifference {
  sections: SectionDifference[];
  /** Bytes outside every section differ: the ELF header, program headers, section header table or padding. */
  headers: boolean;
}

export interface MemberDifference {
  /** The member's name; `#2` is appended to the second member of a repeated name. */
  name: string;
  change: 'content' | 'header' | 'only-in-stored' | 'only-in-rebuilt';
  /** Header fields that differ: mtime, uid, gid, mode. */
  fields?: string[];
  firstOffset?: number;
  size?: [number, number];
  elf?: ElfDifference;
}

export type PycField = 'magic' | 'flags' | 'mtime' | 'source-size' | 'source-hash' | 'code';

export interface PycDifference {
  fields: PycField[];
  /** Offset of the first differing byte inside the marshalled code object. */
  codeOffset?: number;
}

export interface TarMemberDifference {
  name: string;
  change: 'content' | 'header' | 'only-in-stored' | 'only-in-rebuilt';
  /** Header fields that differ, with their values: `mtime: 315532800 -> 1733090000`. */
  fields?: string[];
  firstOffset?: number;
  size?: [number, number];
}

export type EntryType = 'file' | 'directory' | 'symlink';

export type ContentFormat = 'elf' | 'ar' | 'pyc' | 'tar' | 'gzip' | 'text' | 'binary';

export type FileDifference =
  | { path: string; kind: 'only-in-stored' | 'only-in-rebuilt'; type: EntryType }
  | { path: string; kind: 'type'; stored: EntryType; rebuilt: EntryType }
  | { path: string; kind: 'executable'; stored: boolean; rebuilt: boolean }
  | { path: string; kind: 'symlink'; stored: string; rebuilt: string }
  | ContentDifference;

export interface ContentDifference {
  path: string;
  kind: 'content';
  format: ContentFormat;
  size: [number, number];
  firstOffset: number;
  elf?: ElfDifference;
  members?: MemberDifference[];
  tar?: TarMemberDifference[];
  pyc?: PycDifference;
  /** gzip header fields that differ (mtime, os); the compressed stream is compared as bytes. */
  gzip?: string[];
  /** A short unified diff, for text. */
  diff?: string;
}
