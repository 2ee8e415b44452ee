// make_tiny_models <dir>: writes the tiny GGUF models (tests/support/tiny_models.h)
// into <dir>, one per line of output with its path.
#include <filesystem>
#include <iostream>

#include "support/tiny_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_tiny_models <dir>\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(argv[1], ec);
  if (ec) {
    std::cerr << "make_tiny_models: cannot create " << argv[1] << ": " << ec.message() << "\n";
    return 1;
  }
  auto paths = memopt::testing::write_tiny_models(argv[1]);
  if (!paths) {
    std::cerr << "make_tiny_models: " << paths.error().message << "\n";
    return 1;
  }
  for (const auto& p : *paths) std::cout << p << "\n";
  return 0;
}
