// gguf_dump.mjs <file.gguf>...: reads each file with @huggingface/gguf (an
// independent GGUF parser) and prints one JSON array: per file its version,
// metadata (key, type id, element type id, value), tensor infos and data
// offset. 64-bit integers (BigInt) are printed as decimal strings.
import { gguf } from "@huggingface/gguf";

const PSEUDO_KEYS = new Set(["version", "tensor_count", "kv_count"]);
const out = [];
for (const path of process.argv.slice(2)) {
  const r = await gguf(path, { typedMetadata: true, allowLocalFile: true });
  const metadata = [];
  for (const [key, v] of Object.entries(r.typedMetadata)) {
    if (PSEUDO_KEYS.has(key)) continue;
    metadata.push({ key, type: v.type, subType: v.subType ?? null, value: v.value });
  }
  out.push({
    path,
    version: r.metadata.version,
    tensor_count: r.metadata.tensor_count,
    kv_count: r.metadata.kv_count,
    metadata,
    tensors: r.tensorInfos.map((t) => ({ name: t.name, n_dims: t.n_dims, shape: t.shape, dtype: t.dtype, offset: t.offset })),
    tensorDataOffset: r.tensorDataOffset,
  });
}
process.stdout.write(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
