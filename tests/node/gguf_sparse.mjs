// Writes zero-weight GGUF files for the estimator's real-size accuracy grid:
// the header (metadata and tensor table) is written, the data section is a
// hole (ftruncate), so a 100B-shaped model costs a few KiB of disk. llama.cpp's
// no_alloc dry run reads only the header, which is all the grid needs.
// (The C++ GgufWriter in tests/support does the same for the C++ tests; the
// grid's tensor discovery rewrites headers hundreds of times in-process, so a
// writer in the same process avoids a process start per candidate.)
import fs from "node:fs";

// ggml type id -> [block size, bytes per block] (ggml.c type_traits).
export const GGML = {
  f32: 0, f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, q2_K: 10, q3_K: 11, q4_K: 12,
  q5_K: 13, q6_K: 14, bf16: 30, mxfp4: 39,
};
const TRAITS = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 30: [1, 2],
  39: [32, 17],
};

export function tensorBytes(shape, type) {
  const t = TRAITS[type];
  if (!t) throw new Error(`gguf_sparse: unknown ggml type ${type}`);
  if (shape[0] % t[0] !== 0) throw new Error(`gguf_sparse: row of ${shape[0]} is not a multiple of ${t[0]} (type ${type})`);
  let n = shape[0] / t[0] * t[1];
  for (let i = 1; i < shape.length; i++) n *= shape[i];
  return n;
}

// A metadata value: {t: "u32"|"i32"|"f32"|"bool"|"str"|"u64", v} or arrays
// {t: "arr", of: "u32"|"i32"|"f32"|"bool"|"str", v: [...]}.
const VT = {u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12};

class Buf {
  constructor() { this.parts = []; this.n = 0; }
  push(b) { this.parts.push(b); this.n += b.length; }
  u32(x) { const b = Buffer.alloc(4); b.writeUInt32LE(x >>> 0); this.push(b); }
  i32(x) { const b = Buffer.alloc(4); b.writeInt32LE(x); this.push(b); }
  u64(x) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(x)); this.push(b); }
  f32(x) { const b = Buffer.alloc(4); b.writeFloatLE(x); this.push(b); }
  str(s) { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.push(b); }
  scalar(t, v) {
    switch (t) {
      case "u32": return this.u32(v);
      case "i32": return this.i32(v);
      case "f32": return this.f32(v);
      case "u64": return this.u64(v);
      case "bool": return this.push(Buffer.from([v ? 1 : 0]));
      case "str": return this.str(v);
      default: throw new Error(`gguf_sparse: value type ${t}`);
    }
  }
  concat() { return Buffer.concat(this.parts, this.n); }
}

// kvs: [[key, value]]; tensors: [{name, shape, type}]. Returns the file size.
export function writeSparseGguf(path, kvs, tensors, alignment = 32) {
  const h = new Buf();
  h.push(Buffer.from("GGUF"));
  h.u32(3);
  h.u64(tensors.length);
  h.u64(kvs.length);
  for (const [key, val] of kvs) {
    h.str(key);
    h.u32(VT[val.t]);
    if (val.t === "arr") {
      h.u32(VT[val.of]);
      h.u64(val.v.length);
      for (const x of val.v) h.scalar(val.of, x);
    } else {
      h.scalar(val.t, val.v);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.shape.length);
    for (const d of t.shape) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offset += tensorBytes(t.shape, t.type);
    offset = Math.ceil(offset / alignment) * alignment;
  }
  const header = h.concat();
  const dataStart = Math.ceil(header.length / alignment) * alignment;
  const size = dataStart + offset;
  const fd = fs.openSync(path, "w");
  try {
    fs.writeSync(fd, header);
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
  return size;
}
