#pragma once
// Small, bounded readers for sysfs and procfs files. Files there can vanish
// between listing and reading (a process exits) or be huge (hostile fixture),
// so every reader returns empty on failure and never reads past `max_bytes`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memopt {

inline constexpr size_t kSmallFileLimit = 64 * 1024;

std::optional<std::string> read_small_file(const std::string& path,
                                           size_t max_bytes = kSmallFileLimit);
// First line, whitespace-trimmed.
std::optional<std::string> read_line(const std::string& path);
// Decimal (or 0x-hex) unsigned / signed integer, the whole trimmed content.
std::optional<uint64_t> read_u64(const std::string& path);
std::optional<int64_t> read_i64(const std::string& path);
std::optional<std::string> read_link(const std::string& path);
// Names in a directory, without "." and "..", unsorted; empty if unreadable.
std::vector<std::string> list_dir(const std::string& path);

std::string_view trim(std::string_view s);
std::optional<uint64_t> parse_u64(std::string_view s);
std::optional<int64_t> parse_i64(std::string_view s);
// All-digit name of a /proc entry → pid.
std::optional<uint32_t> parse_pid(std::string_view name);

// /proc/PID/comm, trimmed; empty when the process has gone.
std::string process_name(const std::string& proc_root, uint32_t pid);

}  // namespace memopt
