// A tiny shared object built under ONNX Runtime's real file names
// (libonnxruntime.so.1.20.1, libonnxruntime_providers_cuda.so) so a real
// process can map it and the detector sees exactly what it would see in
// /proc/PID/maps for an ONNX Runtime application.
extern "C" __attribute__((visibility("default"))) const char* OrtGetApiBase_fake() { return "fake"; }
