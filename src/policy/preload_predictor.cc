#include "policy/preload_predictor.h"

#include <algorithm>
#include <cmath>

namespace memopt::policy {

int hour_of_week(int64_t unix_seconds) {
  // 1970-01-01 was a Thursday, day 3 of a week that starts on Monday.
  const int64_t hours = unix_seconds >= 0 ? unix_seconds / 3600 : (unix_seconds - 3599) / 3600;
  const int64_t h = (hours + 3 * 24) % PreloadPredictor::kHours;
  return static_cast<int>(h < 0 ? h + PreloadPredictor::kHours : h);
}

PreloadPredictor::PreloadPredictor(PreloadPredictorOptions options) : opts_(options) {
  if (!(opts_.half_life_days > 0)) opts_.half_life_days = 14;
  if (!(opts_.succession_window_seconds > 0)) opts_.succession_window_seconds = 300;
  if (opts_.max_models == 0) opts_.max_models = 1;
}

void PreloadPredictor::advance_to(int64_t unix_seconds) {
  if (!any_) {
    now_ = unix_seconds;
    any_ = true;
    return;
  }
  if (unix_seconds <= now_) return;
  const double halvings = static_cast<double>(unix_seconds - now_) / (opts_.half_life_days * 86400);
  now_ = unix_seconds;
  const double unit_log2 = std::log2(unit_) + halvings;
  if (unit_log2 < 40) {
    unit_ = std::exp2(unit_log2);
    return;
  }
  // Rescale so the newest request weighs 1 again (ratios are unchanged;
  // after a very long gap the old counts become 0).
  const double f = std::exp2(-unit_log2);
  for (auto &m : models_) {
    for (double &v : m.by_hour) v *= f;
    m.requests *= f;
    for (auto &s : m.successors) {
      for (double &v : s) v *= f;
    }
  }
  unit_ = 1;
}

void PreloadPredictor::forget_least_requested() {
  size_t victim = 0;
  for (size_t i = 1; i < models_.size(); ++i) {
    if (models_[i].requests < models_[victim].requests) victim = i;
  }
  models_.erase(models_.begin() + static_cast<std::ptrdiff_t>(victim));
  for (auto &m : models_)
    m.successors.erase(m.successors.begin() + static_cast<std::ptrdiff_t>(victim));
  if (last_ == static_cast<int>(victim)) {
    last_ = -1;
  } else if (last_ > static_cast<int>(victim)) {
    last_--;
  }
}

size_t PreloadPredictor::index_of(const std::string &model) {
  for (size_t i = 0; i < models_.size(); ++i) {
    if (models_[i].name == model) return i;
  }
  if (models_.size() >= opts_.max_models) forget_least_requested();
  ModelStats s;
  s.name = model;
  models_.push_back(std::move(s));
  for (auto &m : models_) m.successors.resize(models_.size());
  return models_.size() - 1;
}

void PreloadPredictor::observe(const std::string &model, int64_t unix_seconds) {
  advance_to(unix_seconds);
  const int64_t t = now_;
  const size_t i = index_of(model);
  ModelStats &m = models_[i];
  m.by_hour[static_cast<size_t>(hour_of_week(t))] += unit_;
  m.requests += unit_;
  if (last_ >= 0) {
    const double gap = static_cast<double>(t - last_at_);
    if (gap < opts_.succession_window_seconds) {
      const double width = opts_.succession_window_seconds / kGapBuckets;
      const auto k = std::min<size_t>(kGapBuckets - 1, static_cast<size_t>(gap / width));
      models_[static_cast<size_t>(last_)].successors[i][k] += unit_;
    }
  }
  last_ = static_cast<int>(i);
  last_at_ = t;
  observed_++;
}

std::vector<PreloadGuess> PreloadPredictor::predict(int64_t unix_seconds) const {
  std::vector<PreloadGuess> out;
  if (models_.empty()) return out;
  const int64_t now = std::max(unix_seconds, now_);
  // Time of week: this hour and the next (the next request may come later),
  // plus a tenth of the model's mean hourly demand so an hour never seen
  // before still ranks models by how often they are asked for at all.
  const auto h0 = static_cast<size_t>(hour_of_week(now));
  const size_t h1 = (h0 + 1) % kHours;
  std::vector<double> tow(models_.size(), 0);
  double tow_sum = 0;
  for (size_t i = 0; i < models_.size(); ++i) {
    const ModelStats &m = models_[i];
    tow[i] = m.by_hour[h0] + m.by_hour[h1] + 0.1 * m.requests / (kHours / 2.0);
    tow_sum += tow[i];
  }
  if (!(tow_sum > 0)) return out;
  // Succession: of the requests for the latest model whose successor had not
  // come after as long as it has been now, the share followed by each model
  // within the rest of the window. P(next = j) = succession share of j + the
  // share with no successor in the window times the time-of-week share.
  std::vector<double> succ(models_.size(), 0);
  double succ_sum = 0;
  const double elapsed = static_cast<double>(now - last_at_);
  if (last_ >= 0 && elapsed < opts_.succession_window_seconds) {
    const ModelStats &a = models_[static_cast<size_t>(last_)];
    const double width = opts_.succession_window_seconds / kGapBuckets;
    const auto k0 = std::min<size_t>(kGapBuckets - 1, static_cast<size_t>(elapsed / width));
    double denom = a.requests;
    for (const auto &s : a.successors) {
      for (size_t k = 0; k < k0; ++k) denom -= s[k];
    }
    if (denom > a.requests * 1e-9 && denom > 0) {
      for (size_t j = 0; j < models_.size(); ++j) {
        for (size_t k = k0; k < kGapBuckets; ++k) succ[j] += a.successors[j][k];
        succ[j] /= denom;
        succ_sum += succ[j];
      }
      if (succ_sum > 1) {
        for (double &v : succ) v /= succ_sum;
        succ_sum = 1;
      }
    } else {
      std::fill(succ.begin(), succ.end(), 0);
    }
  }
  for (size_t i = 0; i < models_.size(); ++i) {
    out.push_back({models_[i].name, succ[i] + (1 - succ_sum) * tow[i] / tow_sum});
  }
  std::stable_sort(out.begin(), out.end(), [](const PreloadGuess &x, const PreloadGuess &y) {
    return x.probability > y.probability;
  });
  return out;
}

double PreloadPredictor::probability(const std::string &model, int64_t unix_seconds) const {
  for (const auto &g : predict(unix_seconds)) {
    if (g.model == model) return g.probability;
  }
  return 0;
}

}  // namespace memopt::policy
