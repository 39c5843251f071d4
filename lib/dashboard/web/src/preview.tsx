/**
 * Output previews: CSV as a table, JSON pretty-printed, images inline, anything else as text. Only the
 * first PREVIEW_BYTES are read, so a gigabyte output costs the browser 256 KiB; Download gets the whole file.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiBlob, apiKey, enc } from './api';
import { bytes, ErrorBox, Loading } from './ui';

const PREVIEW_BYTES = 256 * 1024;
const IMAGE = /\.(png|jpe?g|gif|webp|svg)$/i;

/** The URL of an output (a file inside a directory output with `path`), relative to /api. */
export function outputPath(runId: string, step: string, output: string, path?: string): string {
  return `/runs/${enc(runId)}/steps/${enc(step)}/outputs/${enc(output)}${path ? `?path=${enc(path)}` : ''}`;
}

/** A link the browser can follow (the key goes as ?code=, as Azure Functions accept). */
export function downloadHref(apiPath: string): string {
  const key = apiKey();
  return '/api' + apiPath + (key ? `${apiPath.includes('?') ? '&' : '?'}code=${enc(key)}` : '');
}

/** Splits CSV text into rows (quoted fields with commas, quotes and newlines are handled). */
export function parseCsv(text: string, maxRows = 101): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if ((field || row.length) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

/** An image's MIME type, by its first bytes (outputs often have no extension) or its name. */
export function imageType(name: string, head: Uint8Array, text: string): string | undefined {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'image/png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return 'image/gif';
  if (
    String.fromCharCode(...head.slice(0, 4)) === 'RIFF' &&
    String.fromCharCode(...head.slice(8, 12)) === 'WEBP'
  )
    return 'image/webp';
  if (/\.svg$/i.test(name) || /^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(text.slice(0, 500)))
    return 'image/svg+xml';
  return IMAGE.test(name) ? 'application/octet-stream' : undefined;
}

/** Comma-separated text whose first lines have the same number of fields (more than one). */
export function looksLikeCsv(text: string): boolean {
  const lines = text.split(/\r?\n/, 6).filter((l) => l.length > 0);
  if (lines.length < 2 || /^[[{]/.test(text.trimStart())) return false;
  const counts = lines.slice(0, 5).map((l) => parseCsv(l, 1)[0]?.length ?? 0);
  return counts[0]! > 1 && counts.every((c) => c === counts[0]);
}

type Shown =
  | { kind: 'csv'; rows: string[][] }
  | { kind: 'json'; text: string }
  | { kind: 'image'; url: string }
  | { kind: 'text'; text: string };

export function Preview({ apiPath, name }: { apiPath: string; name: string }) {
  const [shown, setShown] = useState<Shown>();
  const [meta, setMeta] = useState<{ size: number; truncated: boolean }>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let url: string | undefined;
    setShown(undefined);
    setError(undefined);
    apiBlob(apiPath, PREVIEW_BYTES)
      .then(async ({ blob, size, truncated }) => {
        setMeta({ size, truncated });
        const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
        const text = await blob.text();
        const image = imageType(name, head, text);
        if (image && !truncated) {
          url = URL.createObjectURL(new Blob([blob], { type: image }));
          return setShown({ kind: 'image', url });
        }
        if (/\.(csv|tsv)$/i.test(name) || looksLikeCsv(text))
          return setShown({
            kind: 'csv',
            rows: parseCsv(name.endsWith('.tsv') ? text.replace(/\t/g, ',') : text),
          });
        const trimmed = text.trim();
        if (!truncated && (/\.json$/i.test(name) || /^[[{]/.test(trimmed)))
          try {
            return setShown({ kind: 'json', text: JSON.stringify(JSON.parse(trimmed), null, 2) });
          } catch {
            // not JSON after all: shown as text
          }
        if (/[\x00-\x08\x0e-\x1f]/.test(text.slice(0, 2000)))
          return setShown({ kind: 'text', text: '(binary content: use Download)' });
        setShown({ kind: 'text', text });
      })
      .catch((e: Error) => setError(e.message));
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [apiPath]);
  if (error) return <ErrorBox error={error} />;
  if (!shown) return <Loading />;
  return (
    <div class="preview" data-preview={shown.kind}>
      <div class="muted small">
        {name} · {bytes(meta?.size)}
        {meta?.truncated ? ` · first ${bytes(PREVIEW_BYTES)} shown` : ''} ·{' '}
        <a href={downloadHref(apiPath)} download={name.split('/').pop()}>
          Download
        </a>
      </div>
      {shown.kind === 'csv' && (
        <div class="scroll-x">
          <table class="csv">
            <thead>
              <tr>
                {shown.rows[0]?.map((h) => (
                  <th>{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.rows.slice(1, 101).map((r) => (
                <tr>
                  {r.map((c) => (
                    <td>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown.kind === 'json' && <pre class="code">{shown.text}</pre>}
      {shown.kind === 'text' && <pre class="code">{shown.text}</pre>}
      {shown.kind === 'image' && <img class="img-preview" src={shown.url} alt={name} />}
    </div>
  );
}
