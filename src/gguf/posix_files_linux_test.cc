// The GGUF reader and test writer on POSIX file kinds Windows does not have
// (a sparse file's allocated blocks, a FIFO), so the Windows build's tests
// (under Wine) leave them out: *_linux_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "gguf/reader.h"
#include "support/gguf_writer.h"
#include "support/temp_dir.h"

namespace memopt::gguf {
namespace {

using ::testing::HasSubstr;
using testing::GgufWriter;
using testing::TempDir;
using testing::TensorFill;

TEST(GgufWriter, WriteFileMatchesBuildAndStaysSparse) {
  GgufWriter w;
  w.kv_str("general.architecture", "llama");
  w.tensor("small", {8}, 0);
  w.tensor("big", {1ull << 28}, 0, TensorFill::kZero);  // 1 GiB of zeros: a hole
  const auto dir = std::filesystem::temp_directory_path() / "memopt_writer_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "sparse.gguf").string();
  ASSERT_TRUE(w.write_file(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), w.file_bytes());
  EXPECT_EQ(w.file_bytes(), w.data_offset() + 32 + (1ull << 30));
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1u << 20);  // not really written

  GgufWriter small;
  small.tensor("t", {4, 4}, 1);
  const std::string path2 = (dir / "small.gguf").string();
  ASSERT_TRUE(small.write_file(path2).ok());
  std::string on_disk(small.file_bytes(), '\0');
  FILE* f = std::fopen(path2.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(std::fread(on_disk.data(), 1, on_disk.size(), f), on_disk.size());
  std::fclose(f);
  EXPECT_EQ(on_disk, small.build());
  std::filesystem::remove_all(dir);
}

TEST(GgufReaderMalformed, NotARegularFile) {
  TempDir dir;
  auto missing = read_gguf(dir.file("nope.gguf"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "cannot open " + dir.file("nope.gguf") + ": No such file or directory");
  const std::string fifo = dir.file("fifo.gguf");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = read_gguf(fifo);  // must not block waiting for a writer
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, fifo + ": not a regular file (a GGUF model file was expected)");
  auto d = read_gguf(dir.file(""));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().message, HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace memopt::gguf
