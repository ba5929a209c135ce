// Precompresses the build: next to every text file of dist/ over 1 KiB,
// a .gz (gzip -9) and a .br (brotli, quality 11). The Go server sends the
// smallest one the browser accepts (Accept-Encoding), never compressing
// at request time.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const text = /\.(js|css|html|svg|json|txt|map)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      walk(p);
      continue;
    }
    if (!text.test(name)) continue;
    const body = readFileSync(p);
    if (body.length < 1024) continue;
    writeFileSync(p + ".gz", gzipSync(body, { level: 9 }));
    writeFileSync(
      p + ".br",
      brotliCompressSync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    );
  }
}

walk("dist");
