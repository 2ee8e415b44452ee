// A real llama.cpp process for the views' tests: node-llama-cpp (CPU build)
// loads the GGUF model given as argv[2], creates a context, prints "ready",
// then stays loaded until killed (at most 120 s, so a stuck test never
// leaves it behind).
import { getLlama } from 'node-llama-cpp';

const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const model = await llama.loadModel({ modelPath: process.argv[2] });
await model.createContext({ contextSize: 256 });
console.log('ready');
setTimeout(() => process.exit(0), 120000);
