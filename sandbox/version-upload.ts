import { createHash } from 'node:crypto';
import { CF_CODES, type CloudflareMessage } from './cloudflare-envelope.ts';
import { parseBehavior } from './sample-site.ts';
import type { NewVersion, VersionBinding } from './stand-in-state.ts';

/**
 * `POST …/workers/scripts/:s/versions` as `wrangler versions upload` sends it: a multipart body
 * with one JSON `metadata` part and the Worker's module parts, named by `metadata.main_module`
 * (https://developers.cloudflare.com/workers/configuration/multipart-upload-metadata/).
 *
 * Parsing the multipart body is asynchronous (web `Response.formData()`), so the transport does
 * it (readMultipartBody) and the synchronous API module only validates the parts
 * (interpretVersionUpload). The uploaded code never runs: the sandbox's sample site answers for
 * every version, steered by the `SANDBOX_BEHAVIOR` plain_text binding.
 */

/** The plain_text binding whose text (a parseBehavior preset) sets the sample site's behaviour. */
export const BEHAVIOR_BINDING = 'SANDBOX_BEHAVIOR';

export interface UploadPart {
  name: string;
  /** Set for file parts (wrangler uploads modules as files); absent for plain fields. */
  filename?: string;
  /** The part's content type, when it had one. */
  type?: string;
  bytes: Uint8Array;
}

export type MultipartBody = { ok: true; parts: UploadPart[] } | { ok: false; reason: string };

export type VersionUploadCheck = { ok: true; version: NewVersion } | { ok: false; error: CloudflareMessage };

/** True for a `multipart/form-data` content type (any parameters). */
export function isMultipart(contentType: string | undefined): boolean {
  return /^\s*multipart\/form-data\s*(;|$)/i.test(contentType ?? '');
}

/** Parses a multipart/form-data body with the web Response API, keeping every part's bytes. */
export async function readMultipartBody(contentType: string, body: Uint8Array): Promise<MultipartBody> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `the multipart/form-data body could not be parsed (${detail})` };
  }
  const parts: UploadPart[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      parts.push({ name, bytes: new TextEncoder().encode(value) });
    } else {
      const part: UploadPart = { name, filename: value.name, bytes: new Uint8Array(await value.arrayBuffer()) };
      if (value.type !== '') part.type = value.type;
      parts.push(part);
    }
  }
  return { ok: true, parts };
}

function invalid(message: string): VersionUploadCheck {
  return { ok: false, error: { code: CF_CODES.uploadInvalid, message } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const COMPATIBILITY_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Validates an upload and turns it into the version to record. `body` is undefined when the
 * request was not multipart/form-data at all.
 */
export function interpretVersionUpload(body: MultipartBody | undefined, source: string): VersionUploadCheck {
  if (body === undefined) {
    return invalid(
      'A version upload must be a multipart/form-data body with a JSON "metadata" part and the Worker\'s module parts',
    );
  }
  if (!body.ok) return invalid(`Invalid version upload: ${body.reason}`);

  const metadataPart = body.parts.find((p) => p.name === 'metadata');
  if (!metadataPart) {
    return invalid(
      `Missing the "metadata" part: a version upload needs a JSON "metadata" part naming main_module (parts received: ${partNames(body.parts)})`,
    );
  }
  let metadata: unknown;
  try {
    metadata = JSON.parse(new TextDecoder().decode(metadataPart.bytes));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return invalid(`The "metadata" part is not valid JSON: ${detail}`);
  }
  if (!isObject(metadata)) return invalid('The "metadata" part must be a JSON object');

  const modules = body.parts.filter((p) => p.name !== 'metadata');
  const mainModule = metadata['main_module'];
  if (typeof mainModule !== 'string' || mainModule === '') {
    return invalid('metadata.main_module is required: it names the part that holds the Worker\'s entry module');
  }
  if (!modules.some((p) => p.name === mainModule)) {
    return invalid(
      `No such module "${mainModule}": metadata.main_module must name one of the uploaded module parts (uploaded: ${partNames(modules)})`,
    );
  }

  const compatibilityDate = metadata['compatibility_date'];
  if (compatibilityDate !== undefined && (typeof compatibilityDate !== 'string' || !COMPATIBILITY_DATE.test(compatibilityDate))) {
    return invalid(`metadata.compatibility_date must be a date such as "2026-01-01", got ${JSON.stringify(compatibilityDate)}`);
  }

  const bindings = readBindings(metadata['bindings']);
  if (!bindings.ok) return invalid(bindings.message);

  const annotations = metadata['annotations'];
  if (annotations !== undefined && !isObject(annotations)) return invalid('metadata.annotations must be an object');
  const tag = annotations?.['workers/tag'];
  const message = annotations?.['workers/message'];
  for (const [key, value] of [
    ['workers/tag', tag],
    ['workers/message', message],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') {
      return invalid(`metadata.annotations["${key}"] must be a string, got ${JSON.stringify(value)}`);
    }
  }

  const behaviorBinding = bindings.list.find((b) => b.name === BEHAVIOR_BINDING);
  let behavior: NewVersion['behavior'];
  if (behaviorBinding) {
    if (behaviorBinding.type !== 'plain_text' || behaviorBinding.text === undefined) {
      return invalid(`Binding ${BEHAVIOR_BINDING} must be a plain_text binding whose text is a sample-site behaviour preset`);
    }
    try {
      behavior = parseBehavior(behaviorBinding.text);
    } catch (error) {
      return invalid(`Binding ${BEHAVIOR_BINDING}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const etag = createHash('sha256');
  for (const part of modules) etag.update(part.name).update('\0').update(part.bytes).update('\0');

  const version: NewVersion = {
    source,
    upload: {
      mainModule,
      modules: modules.map((p) => p.name),
      etag: etag.digest('hex'),
      ...(typeof compatibilityDate === 'string' ? { compatibilityDate } : {}),
      bindings: bindings.list,
    },
  };
  if (typeof tag === 'string') version.tag = tag;
  if (typeof message === 'string') version.message = message;
  if (behavior !== undefined) version.behavior = behavior;
  return { ok: true, version };
}

function partNames(parts: UploadPart[]): string {
  return parts.map((p) => JSON.stringify(p.name)).join(', ') || 'none';
}

function readBindings(raw: unknown): { ok: true; list: VersionBinding[] } | { ok: false; message: string } {
  if (raw === undefined) return { ok: true, list: [] };
  if (!Array.isArray(raw)) return { ok: false, message: 'metadata.bindings must be an array of {type, name, …}' };
  const list: VersionBinding[] = [];
  const seen = new Set<string>();
  for (const [index, item] of (raw as unknown[]).entries()) {
    if (!isObject(item) || typeof item['type'] !== 'string' || typeof item['name'] !== 'string' || item['name'] === '') {
      return { ok: false, message: `metadata.bindings[${index}] needs a "type" and a "name" string` };
    }
    const { type, name } = item as { type: string; name: string };
    if (seen.has(name)) return { ok: false, message: `Binding name '${name}' is used more than once in metadata.bindings` };
    seen.add(name);
    if (type === 'plain_text') {
      if (typeof item['text'] !== 'string') {
        return { ok: false, message: `metadata.bindings[${index}] (plain_text "${name}") needs a "text" string` };
      }
      list.push({ type, name, text: item['text'] });
    } else {
      // Other kinds (secret_text, kv_namespace, …) are listed by type and name only: the
      // sandbox models none of them, and secret values must never be stored or echoed.
      list.push({ type, name });
    }
  }
  return { ok: true, list };
}
