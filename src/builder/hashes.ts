import ssri from 'ssri';

/** A SHA-256 digest in the SRI form the store metadata uses (`sha256-<base64>`). */
export function sriOf(digest: Buffer): string {
  return ssri.fromHex(digest.toString('hex'), 'sha256').toString();
}
