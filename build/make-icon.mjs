// Draws Talon's app icon (build/icon.png, 512×512): a blue rounded square with a white talon
// mark, written as a PNG with Node's zlib alone. Run `node build/make-icon.mjs` after a change.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const size = 512;
const pixels = Buffer.alloc(size * size * 4);

function inRoundedSquare(x, y) {
  const r = 112;
  const cx = Math.min(Math.max(x, r), size - r);
  const cy = Math.min(Math.max(y, r), size - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** A curved claw: the band between two circles, cut to the lower right. */
function inTalon(x, y) {
  const outer = (x - 200) ** 2 + (y - 200) ** 2 <= 230 ** 2;
  const inner = (x - 150) ** 2 + (y - 150) ** 2 <= 215 ** 2;
  return outer && !inner && x > 150 && y > 150 && x + y < 820;
}

for (let y = 0; y < size; y += 1) {
  for (let x = 0; x < size; x += 1) {
    const i = (y * size + x) * 4;
    // 4×4 supersampling for smooth edges.
    let square = 0;
    let claw = 0;
    for (let sy = 0; sy < 4; sy += 1) {
      for (let sx = 0; sx < 4; sx += 1) {
        const px = x + (sx + 0.5) / 4;
        const py = y + (sy + 0.5) / 4;
        if (inRoundedSquare(px, py)) {
          square += 1;
          if (inTalon(px, py)) claw += 1;
        }
      }
    }
    const white = claw / 16;
    const blue = (square - claw) / 16;
    pixels[i] = Math.round(255 * white + 0x1f * blue);
    pixels[i + 1] = Math.round(255 * white + 0x5e * blue);
    pixels[i + 2] = Math.round(255 * white + 0xff * blue);
    pixels[i + 3] = Math.round(255 * (square / 16));
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(size, 0);
header.writeUInt32BE(size, 4);
header[8] = 8; // bit depth
header[9] = 6; // RGBA
const rows = Buffer.alloc(size * (size * 4 + 1));
for (let y = 0; y < size; y += 1) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(rows, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'icon.png'), png);
