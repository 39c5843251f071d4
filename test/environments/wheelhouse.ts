/**
 * A local wheelhouse of tiny pure-Python packages, made by the test itself (no index, no network):
 * `pip install --no-index --find-links DIR tinya==1.0.0` works offline.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const MAKE = `
import base64, hashlib, os, sys, zipfile
out = sys.argv[1]
def wheel(name, version, requires=(), code=None):
    dist = "%s-%s.dist-info" % (name, version)
    files = {
        "%s/__init__.py" % name: code or ("__version__ = %r\\n" % version),
        dist + "/METADATA": "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n%s" % (
            name, version, "".join("Requires-Dist: %s\\n" % r for r in requires)),
        dist + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: sluice-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = []
    path = os.path.join(out, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w") as z:
        for n, text in files.items():
            data = text.encode()
            z.writestr(n, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (n, digest, len(data)))
        record.append(dist + "/RECORD,,")
        z.writestr(dist + "/RECORD", "\\n".join(record) + "\\n")
for spec in sys.argv[2:]:
    parts = spec.split(":")
    wheel(parts[0], parts[1], [r for r in parts[2:] if r])
`;

/** Wheels such as `tinya:1.0.0` or `tinyb:1.0.0:tinya>=1` (name:version:requirement…) in `dir`. */
export function makeWheelhouse(dir: string, wheels: string[]): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('python3', ['-c', MAKE, dir, ...wheels]);
  return dir;
}

export const TINY_WHEELS = ['tinya:1.0.0', 'tinya:2.0.0', 'tinyb:1.0.0:tinya>=2'];
