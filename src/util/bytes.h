#pragma once
// Byte quantities: human formatting (binary units, as nvidia-smi and Ollama
// users read them) and parsing of sizes typed by users ("24GiB", "512M").
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt {

inline constexpr uint64_t kKiB = 1024ULL;
inline constexpr uint64_t kMiB = 1024ULL * kKiB;
inline constexpr uint64_t kGiB = 1024ULL * kMiB;

// "1.5 GiB", "512.0 MiB", "17 B".
std::string format_bytes(uint64_t bytes);

// Accepts an integer or decimal number with an optional unit: B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB, T/TB/TiB (all binary, as VRAM is sold in GiB).
Result<uint64_t> parse_bytes(std::string_view text);

// A text bar of `width` cells for used/total, e.g. "[######....]".
std::string usage_bar(uint64_t used, uint64_t total, int width);

// The cells each part of a stacked bar of `width` cells gets, where the bar
// stands for `total` bytes: given out by running total, so rounding never
// adds or loses a cell and the parts' cells stay their share of the total.
// Parts past the total get none; the cells left over are the free ones.
// (`ai watch`'s memory map and `ai plan`'s device bars.)
std::vector<int> bar_cells(const std::vector<uint64_t>& parts, uint64_t total, int width);

}  // namespace memopt
