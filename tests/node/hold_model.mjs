// Loads a GGUF with the real llama.cpp (node-llama-cpp's CPU prebuilt),
// creates a small context, prints "ready" and holds the model until killed:
// the live llama.cpp process the detector's tests look for.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const modelPath = process.argv[2];
const llama = await getLlama({gpu: false, logLevel: LlamaLogLevel.error, build: "never"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: 256});
process.stdout.write(`ready ${context.contextSize}\n`);
setInterval(() => {}, 1 << 30);
