/**
 * Queue message text: base64 or plain encoding (host.json `messageEncoding`), and the trigger value
 * ("JSON.parse if possible", as the Functions worker does). Pure.
 */

/** Encodes a message body for the queue per `messageEncoding`. */
export function encodeMessage(text: string | Buffer, encoding: 'base64' | 'none'): string {
  if (encoding === 'base64')
    return (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64');
  return typeof text === 'string' ? text : text.toString('utf8');
}

/** Decodes a message body per `messageEncoding`; undefined when base64 was expected and this is not base64. */
export function decodeMessage(raw: string, encoding: 'base64' | 'none'): string | undefined {
  if (encoding === 'none') return raw;
  const compact = raw.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The trigger value of a message's text: parsed JSON when it is JSON, else the text. */
export function tryJsonParse(text: string): unknown {
  const c = text.charCodeAt(0);
  // Skip the exception path for obvious plain text (the common case for non-JSON messages).
  if (!(
    c === 123 ||
    c === 91 ||
    c === 34 ||
    c === 45 ||
    (c >= 48 && c <= 57) ||
    c === 116 ||
    c === 102 ||
    c === 110
  ))
    return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
