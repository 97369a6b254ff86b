/**
 * CRC-64 with the ISO polynomial, as Go's `crc64.New(crc64.MakeTable(crc64.ISO))` computes it: the
 * file checksum tar-split stores (and checks when it puts a tar back together). The 64-bit state is
 * kept in two 32-bit halves; eight bytes are folded per step ("slicing-by-8" tables, built once).
 */
const HI = new Uint32Array(8 * 256);
const LO = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  // Reflected polynomial 0xD800000000000000: only the high half has bits.
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) hi = (hi ^ 0xd8000000) >>> 0;
  }
  HI[i] = hi;
  LO[i] = lo;
}
// Table k: byte i followed by k zero bytes.
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const prevHi = HI[(k - 1) * 256 + i]!;
    const prevLo = LO[(k - 1) * 256 + i]!;
    const j = prevLo & 0xff;
    LO[k * 256 + i] = (((prevLo >>> 8) | (prevHi << 24)) ^ LO[j]!) >>> 0;
    HI[k * 256 + i] = ((prevHi >>> 8) ^ HI[j]!) >>> 0;
  }
}

export class Crc64Iso {
  #hi = 0xffffffff;
  #lo = 0xffffffff;

  update(bytes: Uint8Array): this {
    let hi = this.#hi;
    let lo = this.#lo;
    let i = 0;
    const end8 = bytes.length - (bytes.length % 8);
    for (; i < end8; i += 8) {
      lo ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
      hi ^= bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
      const nlo =
        LO[7 * 256 + (lo & 0xff)]! ^
        LO[6 * 256 + ((lo >>> 8) & 0xff)]! ^
        LO[5 * 256 + ((lo >>> 16) & 0xff)]! ^
        LO[4 * 256 + (lo >>> 24)]! ^
        LO[3 * 256 + (hi & 0xff)]! ^
        LO[2 * 256 + ((hi >>> 8) & 0xff)]! ^
        LO[256 + ((hi >>> 16) & 0xff)]! ^
        LO[hi >>> 24]!;
      hi =
        HI[7 * 256 + (lo & 0xff)]! ^
        HI[6 * 256 + ((lo >>> 8) & 0xff)]! ^
        HI[5 * 256 + ((lo >>> 16) & 0xff)]! ^
        HI[4 * 256 + (lo >>> 24)]! ^
        HI[3 * 256 + (hi & 0xff)]! ^
        HI[2 * 256 + ((hi >>> 8) & 0xff)]! ^
        HI[256 + ((hi >>> 16) & 0xff)]! ^
        HI[hi >>> 24]!;
      lo = nlo;
    }
    for (; i < bytes.length; i++) {
      const index = (lo ^ bytes[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[index]!;
      hi = (hi >>> 8) ^ HI[index]!;
    }
    this.#hi = hi >>> 0;
    this.#lo = lo >>> 0;
    return this;
  }

  /** The checksum as 8 big-endian bytes (Go's `Sum(nil)`). */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.#hi >>> 0, 0);
    out.writeUInt32BE(~this.#lo >>> 0, 4);
    return out;
  }
}
