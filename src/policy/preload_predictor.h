#pragma once
// The seed's preload predictor: which model will be asked for next, and how
// likely. Learned from the gateway's request log by time of week (per model,
// 168 hour-of-week buckets, UTC) and by succession ("after A, B within 5
// min", with the gap to the next request kept in ten buckets, so that the
// longer nothing has come after A the less A's successors count). Old
// requests fade with a half-life. Pure: requests in, probabilities out; the
// caller gives every time.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace memopt::policy {

struct PreloadPredictorOptions {
  double half_life_days = 14;              // a request's weight halves in this time
  double succession_window_seconds = 300;  // "B within 5 min after A"
  size_t max_models = 64;                  // beyond: the least requested model is forgotten
};

struct PreloadGuess {
  std::string model;
  double probability = 0;  // of being the model of the next request
};

// Hour of the week, 0 = Monday 00:00-00:59 UTC ... 167 = Sunday 23:00 UTC.
int hour_of_week(int64_t unix_seconds);

class PreloadPredictor {
 public:
  static constexpr int kHours = 168;
  static constexpr int kGapBuckets = 10;

  explicit PreloadPredictor(PreloadPredictorOptions options = {});

  // A request for `model` at `unix_seconds`. Times should not go backwards;
  // an earlier one counts as if it came at the latest time seen.
  void observe(const std::string &model, int64_t unix_seconds);

  // Every known model with the probability that the next request (from now
  // on) names it, most likely first; probabilities sum to 1 (empty when
  // nothing was observed).
  std::vector<PreloadGuess> predict(int64_t unix_seconds) const;

  // The same for one model (0 when unknown).
  double probability(const std::string &model, int64_t unix_seconds) const;

  size_t models() const { return models_.size(); }
  uint64_t observed() const { return observed_; }

 private:
  struct ModelStats {
    std::string name;
    std::array<double, kHours> by_hour{};  // decayed request counts per hour of week
    double requests = 0;                   // decayed sum of by_hour
    // successors[j][k]: decayed count of "the request after one for this
    // model named model j and came within gap bucket k".
    std::vector<std::array<double, kGapBuckets>> successors;
  };

  size_t index_of(const std::string &model);
  // Decay without touching every count: a new request weighs `unit_`, which
  // grows by 2^(dt / half-life); every count is rescaled when it gets large.
  void advance_to(int64_t unix_seconds);
  void forget_least_requested();

  PreloadPredictorOptions opts_;
  std::vector<ModelStats> models_;
  double unit_ = 1;
  int64_t now_ = 0;  // latest time seen
  bool any_ = false;
  int last_ = -1;  // model of the latest request
  int64_t last_at_ = 0;
  uint64_t observed_ = 0;
};

}  // namespace memopt::policy
