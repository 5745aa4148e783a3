/**
 * Lossless slice codecs, the page's half. Fewer bytes on the wire is the only way below the
 * transport's floor (the kernel -> server -> websocket -> page path costs about as much per
 * byte as the whole budget). Kept beside the benchmark, not used by the widget: benchmarks/transport.py measured that
 * on a 2-core machine encoding (kernel) + decoding (page) cost about what the halved transfer
 * saves, so slices still travel raw. The benchmark decodes with this module, and it is tested
 * against blocks written by the Python `lz4` package, ready for when the balance changes.
 *
 * `lz4-shuffle`: the slice's little-endian values split into byte planes (byte 0 of every
 * value, then byte 1, ...; one plane for 8-bit data), then one raw LZ4 block (no frame, no
 * size prefix: the message carries the raw length). The planes make the high bytes of CT
 * values (mostly 0x00 / 0xff / 0xfc) long repeats that LZ4 finds.
 *
 * The LZ4 block decoder is our own rather than an npm package: the format is a few lines
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md), and the widely used package
 * (lz4js) checks no bounds, so corrupt input gives garbage or silent truncation instead of an
 * error. This one checks every read and write, and copies long literals and matches with
 * `set` / `copyWithin` (measured in Chromium: see benchmarks/transport.py).
 */

/** Encodings the page can decode (the `encoding` field of a slice item; absent = raw). */
export const ENCODINGS = ["lz4-shuffle"] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function isEncoding(value: unknown): value is Encoding {
  return typeof value === "string" && (ENCODINGS as readonly string[]).includes(value);
}

/** Raised for input that is not a valid encoded slice (corrupt, truncated, wrong length). */
export class CodecError extends Error {
  override name = "CodecError";
}

const MIN_MATCH = 4;

/**
 * Decode one raw LZ4 block from `src` into `dst`, which it must fill exactly. Throws a
 * `CodecError` naming the problem when the block is malformed, truncated, or decodes to a
 * different length; never reads or writes out of bounds.
 */
export function decodeLz4Block(src: Uint8Array, dst: Uint8Array): void {
  const sEnd = src.length;
  const dEnd = dst.length;
  let s = 0;
  let d = 0;
  for (;;) {
    if (s >= sEnd) throw new CodecError(`LZ4 block truncated at input byte ${s}`);
    const token = src[s++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new CodecError(`LZ4 block truncated in a literal length`);
        b = src[s++] as number;
        literals += b;
      } while (b === 255);
    }
    if (literals > 0) {
      if (s + literals > sEnd) throw new CodecError(`LZ4 literals run past the end of the input (byte ${s})`);
      if (d + literals > dEnd) throw new CodecError(`LZ4 literals run past the expected ${dEnd} bytes`);
      if (literals > 16) {
        dst.set(src.subarray(s, s + literals), d);
        s += literals;
        d += literals;
      } else {
        for (const end = s + literals; s < end; ) dst[d++] = src[s++] as number;
      }
    }
    if (s === sEnd) break; // the last sequence has literals only
    if (s + 2 > sEnd) throw new CodecError(`LZ4 block truncated in a match offset`);
    const offset = (src[s] as number) | ((src[s + 1] as number) << 8);
    s += 2;
    if (offset === 0 || offset > d) throw new CodecError(`LZ4 match offset ${offset} at output byte ${d} is invalid`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new CodecError(`LZ4 block truncated in a match length`);
        b = src[s++] as number;
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    if (d + length > dEnd) throw new CodecError(`LZ4 match runs past the expected ${dEnd} bytes`);
    let from = d - offset;
    if (length <= 16) {
      for (const end = d + length; d < end; ) dst[d++] = dst[from++] as number;
    } else if (offset === 1) {
      dst.fill(dst[from] as number, d, d + length); // a run of one byte
      d += length;
    } else {
      // an overlapping match repeats its first `offset` bytes: copy them, then the doubled
      // pattern, ... (each copy's source lies wholly before its destination)
      const end = d + length;
      while (d < end) {
        const chunk = Math.min(d - from, end - d);
        dst.copyWithin(d, from, from + chunk);
        d += chunk;
      }
    }
  }
  if (d !== dEnd) throw new CodecError(`LZ4 block decoded to ${d} bytes, expected ${dEnd}`);
}

/**
 * Interleave byte planes back into values: `planes` holds byte 0 of all `planes.length /
 * itemsize` values, then byte 1, ...; `out` (same length) gets the values' bytes in order.
 */
export function unshuffle(planes: Uint8Array, itemsize: number, out: Uint8Array): void {
  const n = planes.length / itemsize;
  if (!Number.isInteger(n) || out.length !== planes.length) {
    throw new CodecError(`cannot unshuffle ${planes.length} bytes of ${itemsize}-byte values into ${out.length}`);
  }
  if (itemsize === 1) {
    out.set(planes);
    return;
  }
  if (itemsize === 2 && n % 4 === 0 && planes.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    // little-endian platform (every browser): four low and four high bytes at a time, two
    // values per 32-bit store (measured: about twice as fast as one byte at a time)
    const lo = new Uint32Array(planes.buffer, planes.byteOffset, n / 4);
    const hi = new Uint32Array(planes.buffer, planes.byteOffset + n, n / 4);
    const out32 = new Uint32Array(out.buffer, out.byteOffset, n / 2);
    for (let j = 0, o = 0; j < lo.length; j++, o += 2) {
      const l = lo[j] as number;
      const h = hi[j] as number;
      out32[o] = (l & 0xff) | ((h & 0xff) << 8) | ((l & 0xff00) << 8) | ((h & 0xff00) << 16);
      out32[o + 1] = ((l >>> 16) & 0xff) | ((h >>> 8) & 0xff00) | ((l >>> 8) & 0xff0000) | (h & 0xff000000);
    }
    return;
  }
  for (let b = 0; b < itemsize; b++) {
    const base = b * n;
    for (let i = 0, o = b; i < n; i++, o += itemsize) out[o] = planes[base + i] as number;
  }
}

/** Reusable scratch memory for `decodeSlice` (one per loader, grown on demand). */
export class Scratch {
  private buffer = new Uint8Array(0);

  get(length: number): Uint8Array {
    if (this.buffer.length < length) this.buffer = new Uint8Array(length);
    return this.buffer.subarray(0, length);
  }
}

/**
 * Decode one encoded slice into `out` (the slice's bytes in the volume, `out.length` = the raw
 * byte length). `itemsize` is the byte size of one value. Throws a `CodecError` when the
 * input is not a valid encoding of that many bytes, and then leaves `out` untouched (the
 * block is decoded into scratch memory first).
 */
export function decodeSlice(
  encoding: Encoding,
  src: Uint8Array,
  itemsize: number,
  out: Uint8Array,
  scratch: Scratch = new Scratch(),
): void {
  switch (encoding) {
    case "lz4-shuffle": {
      const planes = scratch.get(out.length);
      decodeLz4Block(src, planes);
      unshuffle(planes, itemsize, out);
      return;
    }
  }
}
