/**
 * The one shape of a deployment id: "kd-" plus 10 characters of a 32-letter alphabet without the
 * look-alikes (l, o, 0, 1), so an id read off a phone can be typed. 50 bits: unguessable enough for
 * an id that grants nothing by itself.
 */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const LENGTH = 10;

/** What the bot mints; tells `status ID` from `status SERVICE` in the CLI and chat. */
export const MINTED_DEPLOYMENT_ID = new RegExp(`^kd-[${ALPHABET}]{${LENGTH}}$`);

export function isMintedDeploymentId(text: string): boolean {
  return MINTED_DEPLOYMENT_ID.test(text);
}

/** A new id from `LENGTH` random bytes (the caller brings the randomness: the domain has no I/O). */
export function deploymentIdFrom(randomBytes: Uint8Array): string {
  if (randomBytes.length < LENGTH) throw new RangeError(`a deployment id needs ${LENGTH} random bytes`);
  let id = 'kd-';
  for (const b of randomBytes.subarray(0, LENGTH)) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export const DEPLOYMENT_ID_RANDOM_BYTES = LENGTH;
