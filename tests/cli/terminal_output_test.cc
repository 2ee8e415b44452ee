// Human output end to end: the built binary on fixture inputs whose names,
// command lines and paths hold terminal control sequences (ESC, BEL, CSI,
// C1, bidi overrides) prints none of them raw, shows them escaped, and keeps
// the `ai detect` table's columns apart whatever the width of the values.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/fake_proc.h"
#include "support/gguf_models.h"
#include "support/temp_dir.h"

namespace {

using memopt::testing::FakeProc;
using memopt::testing::FakeProcess;
using memopt::testing::TempDir;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the binary with no GPU visible (empty sys root, no NVML) and HOME,
// config and state in `home`, so the user's own files play no part.
CliRun cli(const TempDir& home, std::vector<std::string> args) {
  std::filesystem::create_directories(home.file("sys"));
  const std::string out = home.file("stdout"), err = home.file("stderr");
  std::vector<std::string> full = {MEMOPT_CLI, "--sys-root", home.file("sys"), "--nvml-library",
                                   home.file("no-libnvidia-ml.so.1")};
  full.insert(full.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    setenv("HOME", home.path().c_str(), 1);
    setenv("XDG_CONFIG_HOME", home.file("config").c_str(), 1);
    setenv("XDG_STATE_HOME", home.file("state").c_str(), 1);
    unsetenv("OLLAMA_HOST");
    unsetenv("OLLAMA_MODELS");
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The first character a terminal would act on rather than show, described,
// or "" when there is none. Decoded here, independently of util/text.
std::string first_control(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    size_t len = 1;
    if (c >= 0x80) {
      len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      if (len == 0 || i + len > s.size()) return "invalid UTF-8 at byte " + std::to_string(i);
      cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return "invalid UTF-8 at byte " + std::to_string(i);
        cp = (cp << 6) | (cc & 0x3f);
      }
    }
    const bool control = (cp < 0x20 && cp != '\n') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
                         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
    if (control) {
      return "code point " + std::to_string(static_cast<unsigned>(cp)) + " at byte " +
             std::to_string(i) + " in: " + s.substr(i > 40 ? i - 40 : 0, 80);
    }
    i += len;
  }
  return "";
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

size_t columns(const std::string& line) {
  size_t n = 0;
  for (char c : line) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

// Hostile strings: an OSC title change ended by BEL, a screen clear, the C1
// CSI (U+009B) and a right-to-left override.
const std::string kHostile =
    "\x1b]0;pwned\a\x1b[2J\xc2\x9b"
    "31m\xe2\x80\xae";

// RSS of every width format_bytes prints, "1.0 KiB" to "1023.0 GiB"; the
// detector finds no VRAM here, so each row has "-" before its RAM value (the
// row that once read "-105.8 MiB").
const std::map<int, std::pair<uint64_t, std::string>> kRss = {
    {201, {1, "1.0 KiB"}},
    {202, {999, "999.0 KiB"}},
    {203, {108339, "105.8 MiB"}},
    {204, {1024000, "1000.0 MiB"}},
    {205, {12ull << 20, "12.0 GiB"}},
    {206, {1023ull << 20, "1023.0 GiB"}},
};

void add_hostile_tree(FakeProc& fp) {
  FakeProcess ollama;
  ollama.pid = 100;
  ollama.comm = "ollama";
  ollama.argv = {"ollama", "serve", kHostile};
  ollama.exe = "/usr/bin/ollama";
  ollama.rss_kb = 108339;
  fp.add(ollama);
  for (const auto& [pid, rss] : kRss) {
    FakeProcess p;
    p.pid = pid;
    p.comm = "llama-server";
    p.argv = {"/opt/llama/llama-server", "-m",
              "/models/evil" + kHostile + "-" + std::to_string(pid) + ".gguf", "--port",
              std::to_string(8000 + pid)};
    p.exe = "/opt/llama" + kHostile + "/llama-server";
    p.cwd = "/home/u/" + kHostile;
    p.rss_kb = rss.first;
    fp.add(p);
  }
  fp.write_file(
      "meminfo",
      "MemTotal:       65536000 kB\nMemFree:        30000000 kB\n"
      "MemAvailable:   40000000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n");
}

TEST(TerminalOutput, DetectAndStatusShowHostileCommandLinesEscaped) {
  TempDir home;
  FakeProc fp;
  add_hostile_tree(fp);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"ai", "detect"}, {"-v", "ai", "detect"}, {"ai", "status"}}) {
    args.insert(args.begin(), {"--proc-root", fp.root()});
    args.insert(args.end(), {"--no-probe", "--no-runtimes"});
    const CliRun r = cli(home, args);
    SCOPED_TRACE(args[2] + " " + args[3]);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(first_control(r.out), "");
    EXPECT_EQ(first_control(r.err), "");
    for (const auto& l : lines_of(r.out)) EXPECT_LE(columns(l), 80u) << l;
  }
  // What the hostile strings hold is shown, escaped, not dropped.
  const CliRun v =
      cli(home, {"--proc-root", fp.root(), "-v", "ai", "detect", "--no-probe", "--no-runtimes"});
  EXPECT_NE(v.out.find("\\x1b]0;pwned\\x07"), std::string::npos) << v.out;
}

TEST(TerminalOutput, DetectTableKeepsColumnsApartForEveryWidth) {
  TempDir home;
  FakeProc fp;
  add_hostile_tree(fp);
  const CliRun r =
      cli(home, {"--proc-root", fp.root(), "ai", "detect", "--no-probe", "--no-runtimes"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  const std::string& header = lines[0];
  ASSERT_EQ(header.rfind("RUNTIME", 0), 0u) << r.out;
  // Column starts, from the header: RUNTIME PID MODEL VRAM RAM ENDPOINT.
  const size_t pid_end = header.find("PID") + 3, model = header.find("MODEL"),
               vram_end = header.find("VRAM") + 4, ram_end = header.find(" RAM") + 4,
               endpoint = header.find("ENDPOINT");
  ASSERT_LT(pid_end, model);
  ASSERT_LT(vram_end, ram_end);
  std::map<int, std::string> ram_by_pid;
  for (size_t i = 1; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& l = lines[i];
    SCOPED_TRACE(l);
    ASSERT_GE(l.size(), endpoint);
    // A space closes every column, whatever its value's width.
    for (size_t sep : {pid_end, model - 1, vram_end, ram_end, endpoint - 1}) EXPECT_EQ(l[sep], ' ');
    const int pid = std::stoi(trim(l.substr(0, pid_end).substr(pid_end - 7)));
    EXPECT_EQ(trim(l.substr(vram_end - 10, 10)), "-");
    ram_by_pid[pid] = trim(l.substr(ram_end - 10, 10));
  }
  for (const auto& [pid, rss] : kRss) EXPECT_EQ(ram_by_pid[pid], rss.second) << "pid " << pid;
  EXPECT_EQ(ram_by_pid[100], "105.8 MiB");
}

TEST(TerminalOutput, ModelInspectAndPlanShowHostileGgufStringsEscaped) {
  TempDir home;
  auto spec = memopt::testing::tiny_llama_gqa();
  spec.name = "evil" + kHostile + "model";
  auto w = memopt::testing::tiny_model(spec);
  w.kv_str("general.description", "line one\nline two" + kHostile);
  const std::string path = home.file("evil.gguf");
  ASSERT_TRUE(w.write_file(path).ok());

  const CliRun inspect = cli(home, {"model", "inspect", path});
  ASSERT_EQ(inspect.rc, 0) << inspect.err;
  EXPECT_EQ(first_control(inspect.out), "");
  EXPECT_NE(inspect.out.find("evil\\x1b]0;pwned\\x07"), std::string::npos) << inspect.out;

  const CliRun plan = cli(home, {"ai", "plan", path, "--vram", "24GiB", "--ram", "64GiB"});
  ASSERT_EQ(plan.rc, 0) << plan.err;
  EXPECT_EQ(first_control(plan.out), "");
  EXPECT_NE(plan.out.find("evil\\x1b]0;pwned\\x07"), std::string::npos) << plan.out;

  // JSON keeps the exact bytes (escaped the JSON way), so machines read the
  // real name.
  const CliRun json = cli(home, {"--json", "model", "inspect", path});
  ASSERT_EQ(json.rc, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).at("name"), spec.name);
}

TEST(TerminalOutput, ErrorMessagesShowHostileValuesEscaped) {
  TempDir home;
  // A runtime failure naming a hostile path (exit 1).
  const CliRun missing = cli(home, {"model", "inspect", home.file(kHostile + "missing.gguf")});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_EQ(first_control(missing.err), "");
  EXPECT_NE(missing.err.find("\\x1b[2J"), std::string::npos) << missing.err;
  // A usage error echoing a hostile value (exit 2).
  const CliRun usage = cli(home, {"ai", "plan", "m.gguf", "--ctx", kHostile});
  EXPECT_EQ(usage.rc, 2);
  EXPECT_EQ(first_control(usage.err), "");
  EXPECT_NE(usage.err.find("--ctx"), std::string::npos) << usage.err;
  EXPECT_NE(usage.err.find("\\x1b]0;pwned"), std::string::npos) << usage.err;
}

TEST(TerminalOutput, PlanSaysWhenTheArchitectureIsUnchecked) {
  // An architecture outside the accuracy grid (gemma, Gemma 1) gets an
  // Estimate line in the text, within 80 columns; a checked one gets none.
  TempDir home;
  auto spec = memopt::testing::tiny_llama_gqa();
  spec.arch = "gemma";
  const std::string gemma = home.file("gemma.gguf"), llama = home.file("llama.gguf");
  ASSERT_TRUE(memopt::testing::tiny_model(spec).write_file(gemma).ok());
  ASSERT_TRUE(memopt::testing::tiny_model(memopt::testing::tiny_llama_gqa()).write_file(llama).ok());
  const CliRun plan = cli(home, {"ai", "plan", gemma, "--gpus", "none", "--ram", "1GiB"});
  ASSERT_EQ(plan.rc, 0) << plan.err;
  EXPECT_NE(plan.out.find("\nEstimate unchecked for gemma: llama.cpp's allocation"), std::string::npos)
      << plan.out;
  std::istringstream lines(plan.out);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 80u) << line;
  const CliRun checked = cli(home, {"ai", "plan", llama, "--gpus", "none", "--ram", "1GiB"});
  ASSERT_EQ(checked.rc, 0) << checked.err;
  EXPECT_EQ(checked.out.find("unchecked"), std::string::npos) << checked.out;
}

}  // namespace
