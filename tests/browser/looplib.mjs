// What the loop tests (loop, return, upload) share: a small valid PNG made
// here (no binary fixture), and the page's ids of reference data by code.
import { deflateSync } from 'node:zlib';

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// A w×h RGB PNG of one colour (seed varies it, so each photo's SHA-256 differs).
export function png(w = 64, h = 48, seed = 1) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) { row[1 + 3 * x] = (seed * 70) & 255; row[2 + 3 * x] = (x * 4) & 255; row[3 + 3 * x] = 160; }
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// The value of the <option> of select SEL whose data-code is CODE.
export async function optionByCode(page, sel, code) {
  const v = await page.$eval(`${sel} option[data-code="${code}"]`, (o) => o.value);
  return v;
}

export function ticketOf(r) {
  return (r && (r.ticket || (r.result && r.result.ticket))) || null;
}
