// libFuzzer target: what users and other programs hand the daemon and the
// gateway as files and documents — config.toml's [serve] table and its
// profiles, the gateway's request log, a gateway's /serve/state document and
// a daemon's status document (read back by the views). The first byte picks
// the reader; the rest is the input. Whatever the bytes: an error naming
// where, or a value that keeps the invariants the code relies on; never an
// exception, a crash or an unbounded allocation.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "assembler/gateway_collector.h"
#include "policy/profile.h"
#include "serve/config.h"
#include "serve/request_log.h"
#include "snapshot/snapshot_json.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// An error names the file it read.
void names(const memopt::Error& e, const std::string& path) {
  check(e.message.find(path) != std::string::npos);
}

void serve_config(std::string_view text) {
  const std::string path = "fuzz/config.toml";
  auto c = memopt::serve::parse_serve_config(text, path);
  if (!c) return names(c.error(), path);
  check(c->max_queue >= 0 && c->queue_timeout_seconds >= 0);
  for (const auto& m : c->models) {
    check(memopt::serve::valid_model_name(m.name));
    check(m.started_by_gateway() != !m.endpoint.empty());
    check(c->find(m.name) != nullptr);
  }
  check(c->image_generation.poll_seconds > 0 && c->image_generation.resume_after_seconds >= 0);
}

void profiles(std::string_view text) {
  const std::string path = "fuzz/config.toml";
  auto p = memopt::policy::parse_profiles(text, path);
  if (!p) return names(p.error(), path);
  // The built-in profiles are always there, whatever the file adds.
  for (const auto& b : memopt::policy::builtin_profiles()) check(p->find(b.name) != nullptr);
}

void request_log(std::string_view text) {
  auto recs = memopt::serve::decode_request_log(text, "fuzz.log");
  if (!recs) return names(recs.error(), "fuzz.log");
  check(recs->size() <= memopt::serve::kRequestLogMaxRecords);
  // What it read, written again, reads back the same.
  std::deque<memopt::serve::RequestRecord> kept(recs->begin(), recs->end());
  auto again = memopt::serve::decode_request_log(memopt::serve::encode_request_log(kept), "again");
  check(again && again->size() == recs->size());
  for (size_t i = 0; i < recs->size(); ++i) {
    check((*again)[i].unix_ms == (*recs)[i].unix_ms && (*again)[i].model == (*recs)[i].model &&
          (*again)[i].client == (*recs)[i].client);
  }
}

void serve_state(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return;
  const memopt::assembler::GatewayTarget target{"127.0.0.1:8080", "", ""};
  const auto g = memopt::assembler::gateway_status_from_document(target, doc, "fuzz");
  check(g.listen == "127.0.0.1:8080");
  check(g.reachable == g.error.empty());
  check(g.models.size() <= memopt::snapshot::kMaxRows);
  // Whatever it holds goes out again as the status document's section.
  (void)memopt::snapshot::to_json(g).dump();
}

void status_doc(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return;
  auto s = memopt::snapshot::from_json(doc);
  if (!s) return;
  check(s->workloads.size() <= memopt::snapshot::kMaxRows);
  // A view re-serves what it read: that must not throw either.
  (void)memopt::snapshot::to_json(*s).dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: serve_config(text); break;
    case 1: profiles(text); break;
    case 2: request_log(text); break;
    case 3: serve_state(text); break;
    default: status_doc(text); break;
  }
  return 0;
}
