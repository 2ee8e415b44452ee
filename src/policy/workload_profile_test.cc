#include "policy/workload_profile.h"

#include <gtest/gtest.h>

#include "util/bytes.h"

namespace memopt::policy {
namespace {

WorkloadRun run_of(const WorkloadSignature& sig, uint64_t peak, double ramp) {
  WorkloadRun r;
  r.signature = sig;
  r.samples = {{0, 0}, {ramp * 0.5, peak / 2}, {ramp, peak * 95 / 100}, {ramp + 5, peak}};
  return r;
}

TEST(WorkloadProfileTest, LearnsPeakAndRampPerSignatureAndGpu) {
  const WorkloadSignature game{"other", "bg3", "", "", ""};
  std::vector<WorkloadProfile> ps;
  learn(ps, run_of(game, 10 * kGiB, 8));
  learn(ps, run_of(game, 11 * kGiB, 12));
  learn(ps, run_of(game, 9 * kGiB, 10));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].runs, 3u);
  EXPECT_EQ(ps[0].expected_peak_bytes(), 11 * kGiB);  // the highest of the recent runs
  EXPECT_DOUBLE_EQ(ps[0].ramp_seconds, 10);           // median time to 90 % of the peak
  auto other_gpu = run_of(game, kGiB, 1);
  other_gpu.gpu = 1;
  learn(ps, other_gpu);
  EXPECT_EQ(ps.size(), 2u);
  // Only the last kKeptPeaks runs count: a program that changed is learned anew.
  for (int i = 0; i < 8; ++i) learn(ps, run_of(game, 4 * kGiB, 3));
  EXPECT_EQ(ps[0].expected_peak_bytes(), 4 * kGiB);
  EXPECT_EQ(ps[0].runs, 11u);
  // Nothing learned from an empty run, or from a bare interpreter.
  learn(ps, WorkloadRun{game, 0, {}});
  learn(ps, run_of({"pytorch", "python3.12", "", "", ""}, kGiB, 1));
  EXPECT_EQ(ps.size(), 2u);
}

TEST(WorkloadProfileTest, NearestNeighbourOverArgumentsAndContainersNotModels) {
  const WorkloadSignature srv{"llama.cpp", "llama-server", "m.gguf", "ctx=8192 np=4", ""};
  std::vector<WorkloadProfile> ps;
  learn(ps, run_of(srv, 9 * kGiB, 5));
  int d = 0;
  EXPECT_NE(match_profile(ps, srv, 0, 2, &d), nullptr);
  EXPECT_EQ(d, 0);
  auto ctx = srv;
  ctx.args = "ctx=16384 np=4";
  EXPECT_NE(match_profile(ps, ctx, 0, 2, &d), nullptr);
  EXPECT_EQ(d, 1);
  ctx.container = "abc";
  EXPECT_NE(match_profile(ps, ctx, 0, 2, &d), nullptr);
  EXPECT_EQ(d, 2);
  EXPECT_EQ(match_profile(ps, ctx, 0, 1, &d), nullptr);
  EXPECT_EQ(d, -1);
  auto model = srv;
  model.model_file = "other.gguf";  // another model is another program
  EXPECT_EQ(match_profile(ps, model, 0, 2), nullptr);
  EXPECT_EQ(match_profile(ps, srv, 1, 2), nullptr);  // another GPU
  EXPECT_EQ(match_profile(ps, {"pytorch", "python3", "", "", ""}, 0, 9), nullptr);
}

TEST(WorkloadProfileTest, SignatureFromTheSnapshotsWorkload) {
  snapshot::Workload w;
  w.runtime = "llama.cpp";
  w.command = "llama-server";
  w.model_files = {"/models/qwen/q.gguf"};
  w.context_tokens = 8192;
  w.parallel = 2;
  w.container_id = "c1";
  const auto s = signature_of(w);
  EXPECT_EQ(s.model_file, "q.gguf");
  EXPECT_EQ(s.args, "ctx=8192 np=2");
  EXPECT_EQ(s.text(), "llama.cpp:llama-server model=q.gguf ctx=8192 np=2 [c1]");
  EXPECT_TRUE(s.specific());
}

TEST(WorkloadProfileTest, AnnotatesTheSnapshotForTheViews) {
  std::vector<WorkloadProfile> ps;
  for (int i = 0; i < 3; ++i) learn(ps, run_of({"other", "bg3", "", "", ""}, 6 * kGiB, 4));
  snapshot::Snapshot s;
  s.gpus.resize(1);
  s.workloads.resize(2);
  s.workloads[0].runtime = "other";
  s.workloads[0].command = "bg3";
  s.workloads[1].runtime = "other";
  s.workloads[1].command = "python3";
  s.workloads[1].learned_peak = snapshot::LearnedPeak{0, 1, 1};  // stale: cleared
  annotate_learned_peaks(s, ps);
  ASSERT_TRUE(s.workloads[0].learned_peak.has_value());
  EXPECT_EQ(s.workloads[0].learned_peak->peak_bytes, 6 * kGiB);
  EXPECT_EQ(s.workloads[0].learned_peak->runs, 3u);
  EXPECT_FALSE(s.workloads[1].learned_peak.has_value());
}

TEST(WorkloadProfileTest, JsonRoundTripAndHostileInput) {
  std::vector<WorkloadProfile> ps;
  learn(ps, run_of({"other", "bg3", "", "", "c"}, 5 * kGiB, 4));
  learn(ps, run_of({"comfyui", "python3", "ckpt.safetensors", "", ""}, 7 * kGiB, 6));
  const auto back = profiles_from_json(profiles_to_json(ps));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].signature, ps[1].signature);
  EXPECT_EQ((*back)[1].expected_peak_bytes(), 7 * kGiB);
  EXPECT_EQ((*back)[0].ramp_seconds, ps[0].ramp_seconds);
  const struct {
    const char* json;
    const char* says;
  } bad[] = {
      {"{", "not valid JSON"},
      {"{}", "expected a JSON array"},
      {"[1]", "[0]: not an object"},
      {R"([{"runtime":"x","executable":"y","gpu":0,"runs":1}])", "recent_peaks_bytes"},
      {R"([{"runtime":"x","executable":"y","gpu":-1,"runs":1,"recent_peaks_bytes":[]}])", ".gpu"},
      {R"([{"runtime":"x","executable":"y","gpu":0,"runs":1,"recent_peaks_bytes":[-5]}])",
       "not bytes"},
      {R"([{"runtime":"x","executable":"y","gpu":0,"runs":1,"recent_peaks_bytes":[1,2,3,4,5,6,7,8,9]}])",
       "more than 8"},
      {R"([{"runtime":7,"executable":"y","gpu":0,"runs":1,"recent_peaks_bytes":[]}])",
       "runtime: not a string"},
      {R"([{"executable":"y","gpu":0,"runs":1,"recent_peaks_bytes":[]}])", "required"},
  };
  for (const auto& b : bad) {
    const auto r = profiles_from_json(b.json);
    ASSERT_FALSE(r.ok()) << b.json;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
  std::string many = "[";
  for (int i = 0; i < 5000; ++i) many += std::string(i ? "," : "") + "1";
  EXPECT_FALSE(profiles_from_json(many + "]").ok());
}

TEST(WorkloadProfileTest, KeepsAtMostWhatTheReaderAcceptsDroppingTheLeastRunFirst) {
  std::vector<WorkloadProfile> ps;
  const WorkloadSignature keep{"other", "bg3", "", "", ""};
  learn(ps, run_of(keep, 8 * kGiB, 5));
  learn(ps, run_of(keep, 8 * kGiB, 5));
  for (int i = 0; i < 4096; ++i) {
    learn(ps, run_of({"other", "game" + std::to_string(i), "", "", ""}, kGiB, 1));
  }
  ASSERT_EQ(ps.size(), 4096u);
  EXPECT_EQ(ps.front().signature, keep);  // two runs: kept
  EXPECT_EQ(ps.front().runs, 2u);
  EXPECT_EQ(ps[1].signature.executable, "game1");  // game0, the oldest single run, made room
  EXPECT_TRUE(profiles_from_json(profiles_to_json(ps)).ok());
}

}  // namespace
}  // namespace memopt::policy
